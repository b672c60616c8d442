/**
 * Parsed manifests shared by the players of one simulator thread: a thousand viewers of one VOD
 * fetch the same playlists, and one parse (one set of segment objects) serves them all, which
 * also keeps the heap the garbage collector walks small. Keyed by the exact text (and what else
 * the result depends on); the parsed values are never mutated. Bounded: the oldest text goes
 * first (live playlists change at every reload).
 */
const MAX_TEXTS = 64;

export class ParseCache<V> {
  readonly #byText = new Map<string, Map<string, V>>();

  /** The value for `text` and `key`, made by `parse` the first time. */
  get(text: string, key: string, parse: () => V): V {
    let byKey = this.#byText.get(text);
    if (byKey === undefined) {
      if (this.#byText.size >= MAX_TEXTS) this.#byText.delete(this.#byText.keys().next().value!);
      byKey = new Map();
      this.#byText.set(text, byKey);
    }
    let value = byKey.get(key);
    if (value === undefined) {
      value = parse();
      byKey.set(key, value);
    }
    return value;
  }
}
