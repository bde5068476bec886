import{cs as a}from"./index-kuw5Jn-a.js";const p=(e="")=>e.replace(/[|\\{}()[\]^$+*?.]/g,"\\$&").replace(/-/g,"\\x2d"),s=e=>a(e);export{s as c,p as e};
