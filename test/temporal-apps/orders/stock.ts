// The shop's stock: a map in the worker's process, shared by the activities and the tests.
export const stock = new Map<string, number>([
  ['kettle', 5],
  ['teapot', 2],
]);
