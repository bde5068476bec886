import{cs as a}from"./index-DR7A3uJa.js";const p=(e="")=>e.replace(/[|\\{}()[\]^$+*?.]/g,"\\$&").replace(/-/g,"\\x2d"),s=e=>a(e);export{s as c,p as e};
