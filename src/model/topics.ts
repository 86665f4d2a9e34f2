/** At most this many topics per reader or feed. */
export const MAX_TOPICS = 20;

/**
 * Topics from a comma-separated list ("speech, diffusion, reinforcement learning"):
 * trimmed, whitespace collapsed, lower case, without repeats. Throws a message that
 * says what is wrong when there are too many or one is too long.
 */
export function parseTopics(input: string): string[] {
  const topics = [...new Set(input.split(",").map((t) => t.normalize("NFKC").trim().replace(/\s+/g, " ").toLowerCase()).filter(Boolean))];
  if (topics.length > MAX_TOPICS) throw new Error(`at most ${MAX_TOPICS} topics (got ${topics.length})`);
  const long = topics.find((t) => t.length > 60);
  if (long) throw new Error(`a topic is at most 60 characters ("${long.slice(0, 20)}..." is longer)`);
  const wordless = topics.find((t) => !/[\p{L}\p{N}]/u.test(t));
  if (wordless !== undefined) throw new Error(`a topic needs a letter or digit ("${wordless}" has none)`);
  return topics;
}

/** What a topic is matched against: title, abstract, and the JSON's keywords when known. */
export interface Matchable {
  title: string;
  abstract: string | null;
  keywords?: string[] | null;
}

/**
 * A matcher for topics: a paper matches a topic when its words appear in order as
 * whole words in its title, abstract or keywords, in any case, with simple plurals
 * ("model" finds "models", "diffusions" finds "diffusion"). Words are runs of Unicode
 * letters, digits and marks; anything else separates them, so "text-to-speech" and
 * "text to speech" are the same phrase. Returns the topics a paper matches, in the
 * order given.
 *
 * Matching works on the paper's words, never on a pattern built from a topic (topics
 * come from anonymous feed URLs): each paper's words are indexed once, and a topic
 * costs one look-up per occurrence of its first word, whatever its shape.
 */
export function topicMatcher(topics: readonly string[]): (p: Matchable) => string[] {
  const phrases = topics.map((topic) => ({ topic, words: phraseOf(topic) }));
  return (p) => {
    const index = wordsOf(p);
    return phrases.filter(({ words }) => words !== null && containsPhrase(index, words)).map(({ topic }) => topic);
  };
}

/** A topic's words, the last as the forms it matches ("model" -> model, models, modeles); null when it has none. */
interface Phrase {
  lead: string[];
  last: string[];
}

/** Phrases of topics, shared by every matcher (the same topic is in many readers' lists); bounded, as feed URLs bring any. */
const phrases = new Map<string, Phrase | null>();

function phraseOf(topic: string): Phrase | null {
  let p = phrases.get(topic);
  if (p === undefined) {
    if (phrases.size >= 10_000) phrases.clear();
    const words = splitWords(topic.normalize("NFKC").toLowerCase());
    const stemmed = words.length > 0 ? stem(words[words.length - 1]!) : "";
    p = words.length === 0 ? null : { lead: words.slice(0, -1), last: [stemmed, `${stemmed}s`, `${stemmed}es`] };
    phrases.set(topic, p);
  }
  return p;
}

/** A paper's words in order, and where each word occurs. */
interface WordIndex {
  words: string[];
  at: Map<string, number[]>;
}

/** A paper's words, indexed once per paper object. */
const indexes = new WeakMap<Matchable, WordIndex>();

function wordsOf(p: Matchable): WordIndex {
  let index = indexes.get(p);
  if (!index) {
    // Keywords are separate phrases: a stop between fields keeps a phrase from running across them.
    const text = [p.title, p.abstract ?? "", ...(p.keywords ?? [])].join(" \u0001 ").normalize("NFKC").toLowerCase();
    const words = splitWords(text, true);
    const at = new Map<string, number[]>();
    words.forEach((w, i) => {
      const list = at.get(w);
      if (list) list.push(i);
      else at.set(w, [i]);
    });
    index = { words, at };
    indexes.set(p, index);
  }
  return index;
}

/** Runs of letters, digits and marks; with `keepStops`, a U+0001 between fields stays as a word no topic has. */
function splitWords(text: string, keepStops = false): string[] {
  return text.split(keepStops ? /[^\p{L}\p{N}\p{M}\u0001]+/u : /[^\p{L}\p{N}\p{M}]+/u).filter(Boolean);
}

function containsPhrase(index: WordIndex, phrase: Phrase): boolean {
  const { lead, last } = phrase;
  if (lead.length === 0) return last.some((form) => index.at.has(form));
  for (const start of index.at.get(lead[0]!) ?? []) {
    let i = 1;
    while (i < lead.length && index.words[start + i] === lead[i]) i++;
    if (i === lead.length && last.includes(index.words[start + i] ?? "")) return true;
  }
  return false;
}

/** A word without its plural ending: "diffusions" -> "diffusion", "boxes" -> "box". */
function stem(word: string): string {
  if (word.length > 3 && /(s|x|z|ch|sh)es$/.test(word)) return word.slice(0, -2);
  return word.length > 2 && word.endsWith("s") && !word.endsWith("ss") ? word.slice(0, -1) : word;
}
