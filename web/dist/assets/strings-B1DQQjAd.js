import{cs as a}from"./index-D4IMK69i.js";const p=(e="")=>e.replace(/[|\\{}()[\]^$+*?.]/g,"\\$&").replace(/-/g,"\\x2d"),s=e=>a(e);export{s as c,p as e};
