import{cs as a}from"./index-C0Wt6V_l.js";const p=(e="")=>e.replace(/[|\\{}()[\]^$+*?.]/g,"\\$&").replace(/-/g,"\\x2d"),s=e=>a(e);export{s as c,p as e};
