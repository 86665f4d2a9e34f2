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
  return topics;
}

/** What a topic is matched against: title, abstract, and the JSON's keywords when known. */
export interface Matchable {
  title: string;
  abstract: string | null;
  keywords?: string[] | null;
}

/**
 * A matcher for topics: a paper matches a topic when it appears as a whole word or
 * phrase in its title, abstract or keywords, in any case, with simple plurals
 * ("model" finds "models", "diffusions" finds "diffusion"). Unicode letters and digits
 * are word characters. Returns the topics a paper matches, in the order given.
 */
export function topicMatcher(topics: readonly string[]): (p: Matchable) => string[] {
  const patterns = topics.map((topic) => compiled(topic));
  return (p) => {
    const { text, folded } = textOf(p);
    // A plain substring test first: most topics are not in most papers, and it is far cheaper than the pattern.
    return patterns.filter(({ needle, re }) => (needle === null || folded.includes(needle)) && re.test(text)).map(({ topic }) => topic);
  };
}

interface CompiledTopic {
  topic: string;
  re: RegExp;
  /** Lower-case ASCII text every match contains, when there is such (null: test the pattern alone). */
  needle: string | null;
}

/** Compiled topics, shared by every matcher (the same topic is in many readers' lists); bounded, as feed URLs bring any. */
const compiledTopics = new Map<string, CompiledTopic>();

function compiled(topic: string): CompiledTopic {
  let c = compiledTopics.get(topic);
  if (!c) {
    if (compiledTopics.size >= 10_000) compiledTopics.clear();
    const words = topic.split(" ");
    const first = words.length > 1 ? words[0]! : stem(words[0]!);
    c = { topic, re: new RegExp(`(?<![\\p{L}\\p{N}])${phrase(topic)}(?![\\p{L}\\p{N}])`, "iu"), needle: /^[\x20-\x7e]+$/.test(first) ? first.toLowerCase() : null };
    compiledTopics.set(topic, c);
  }
  return c;
}

/** A paper's text as topics see it, made once per paper object. */
const texts = new WeakMap<Matchable, { text: string; folded: string }>();

function textOf(p: Matchable): { text: string; folded: string } {
  let t = texts.get(p);
  if (!t) {
    const text = `${p.title}\n${p.abstract ?? ""}\n${(p.keywords ?? []).join("\n")}`;
    // Lower case as the pattern's case folding sees ASCII letters: the Kelvin sign is a k there, and the long s an s.
    t = { text, folded: text.toLowerCase().replace(/\u017f/g, "s") };
    texts.set(p, t);
  }
  return t;
}

/** The pattern of a topic: words separated by any whitespace or hyphen, the last one in singular or plural. */
function phrase(topic: string): string {
  const words = topic.split(" ");
  const tail = `${escape(stem(words.pop()!))}(?:s|es)?`;
  return [...words.map(escape), tail].join("[\\s\\-]+");
}

/** A word without its plural ending: "diffusions" -> "diffusion", "boxes" -> "box". */
function stem(word: string): string {
  if (word.length > 3 && /(s|x|z|ch|sh)es$/.test(word)) return word.slice(0, -2);
  return word.length > 2 && word.endsWith("s") && !word.endsWith("ss") ? word.slice(0, -1) : word;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
