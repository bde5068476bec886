function r(n){return n===void 0}function t(n,e,i=.03){return n-e>i}export{r as a,t as i};
