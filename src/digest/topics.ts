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
  const patterns = topics.map((t) => ({ topic: t, re: new RegExp(`(?<![\\p{L}\\p{N}])${phrase(t)}(?![\\p{L}\\p{N}])`, "iu") }));
  return (p) => {
    const text = `${p.title}\n${p.abstract ?? ""}\n${(p.keywords ?? []).join("\n")}`;
    return patterns.filter(({ re }) => re.test(text)).map(({ topic }) => topic);
  };
}

/** The pattern of a topic: words separated by any whitespace or hyphen, the last one in singular or plural. */
function phrase(topic: string): string {
  const words = topic.split(" ");
  const last = words.pop()!;
  const stem = last.length > 3 && /es$/.test(last) && /(s|x|z|ch|sh)es$/.test(last) ? last.slice(0, -2) : last.length > 2 && last.endsWith("s") && !last.endsWith("ss") ? last.slice(0, -1) : last;
  const tail = `${escape(stem)}(?:s|es)?`;
  return [...words.map(escape), tail].join("[\\s\\-]+");
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
