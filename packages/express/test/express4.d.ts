// `express4` is the devDependency alias of express@4 (`npm:express@^4`); it ships no types of its
// own, and the shape the tests use is the same as Express 5's.
declare module 'express4' {
  import type express from 'express';

  const express4: typeof express;
  export default express4;
}
