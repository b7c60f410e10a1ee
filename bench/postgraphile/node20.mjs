// PostGraphile 5.1 asks for Node.js 22; the one thing it uses that Node.js
// 20 lacks is Promise.withResolvers (ES2024), supplied here.
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve, reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
