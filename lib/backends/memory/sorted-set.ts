/**
 * An ordered set (host side) for the memory store's indexes: a treap, a binary search tree kept
 * balanced by random priorities, so insert, delete, min and "first item above" visit O(log n)
 * nodes (expected) however many items it holds. Items are compared only through `compare`,
 * which must never call two distinct items equal (the store's keys end with a unique sequence
 * number). Priorities come from a fixed-seed generator: the same operations build the same tree.
 */

/**
 * Nodes visited by every SortedSet, all operations together: a test hook that shows the work of
 * an operation stays bounded as the set grows, without timing anything.
 */
export const sortedSetWork = { steps: 0 };

interface Node<T> {
  item: T;
  priority: number;
  left: Node<T> | undefined;
  right: Node<T> | undefined;
}

export class SortedSet<T> {
  private root: Node<T> | undefined;
  private count = 0;
  private state = 0x9e3779b9;

  constructor(private readonly compare: (a: T, b: T) => number) {}

  get size(): number {
    return this.count;
  }

  /** Adds an item no item in the set compares equal to. */
  insert(item: T): void {
    this.root = this.insertAt(this.root, { item, priority: this.nextPriority(), left: undefined, right: undefined });
    this.count++;
  }

  /** Removes the item comparing equal to `item`; false if there is none. */
  delete(item: T): boolean {
    let parent: Node<T> | undefined;
    let node = this.root;
    while (node !== undefined) {
      sortedSetWork.steps++;
      const c = this.compare(item, node.item);
      if (c === 0) break;
      parent = node;
      node = c < 0 ? node.left : node.right;
    }
    if (node === undefined) return false;
    const joined = this.merge(node.left, node.right);
    if (parent === undefined) this.root = joined;
    else if (parent.left === node) parent.left = joined;
    else parent.right = joined;
    this.count--;
    return true;
  }

  min(): T | undefined {
    let node = this.root;
    if (node === undefined) return undefined;
    while (node.left !== undefined) {
      sortedSetWork.steps++;
      node = node.left;
    }
    return node.item;
  }

  /**
   * The least item for which `above` holds, where `above` is false for a prefix of the order and
   * true for the rest (such as "at > now").
   */
  first(above: (item: T) => boolean): T | undefined {
    let best: T | undefined;
    let node = this.root;
    while (node !== undefined) {
      sortedSetWork.steps++;
      if (above(node.item)) {
        best = node.item;
        node = node.left;
      } else node = node.right;
    }
    return best;
  }

  /** Every item in order (for tests and debugging; O(n)). */
  *[Symbol.iterator](): IterableIterator<T> {
    const stack: Node<T>[] = [];
    let node = this.root;
    while (node !== undefined || stack.length > 0) {
      while (node !== undefined) {
        stack.push(node);
        node = node.left;
      }
      const next = stack.pop()!;
      yield next.item;
      node = next.right;
    }
  }

  /** xorshift32: a fixed sequence, so runs are reproducible. */
  private nextPriority(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }

  private insertAt(node: Node<T> | undefined, fresh: Node<T>): Node<T> {
    if (node === undefined) return fresh;
    sortedSetWork.steps++;
    if (fresh.priority > node.priority) {
      [fresh.left, fresh.right] = this.split(node, fresh.item);
      return fresh;
    }
    if (this.compare(fresh.item, node.item) < 0) node.left = this.insertAt(node.left, fresh);
    else node.right = this.insertAt(node.right, fresh);
    return node;
  }

  /** The tree's items below `item`, and those above it. */
  private split(node: Node<T> | undefined, item: T): [Node<T> | undefined, Node<T> | undefined] {
    if (node === undefined) return [undefined, undefined];
    sortedSetWork.steps++;
    if (this.compare(node.item, item) < 0) {
      const [below, above] = this.split(node.right, item);
      node.right = below;
      return [node, above];
    }
    const [below, above] = this.split(node.left, item);
    node.left = above;
    return [below, node];
  }

  /** Joins two trees, every item of `a` below every item of `b`. */
  private merge(a: Node<T> | undefined, b: Node<T> | undefined): Node<T> | undefined {
    if (a === undefined) return b;
    if (b === undefined) return a;
    sortedSetWork.steps++;
    if (a.priority > b.priority) {
      a.right = this.merge(a.right, b);
      return a;
    }
    b.left = this.merge(a, b.left);
    return b;
  }
}
