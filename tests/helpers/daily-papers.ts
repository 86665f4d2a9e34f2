import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ABSTRACT } from "./project.js";

/** One paper of a saved daily_papers answer. */
export interface DayEntry {
  id: string;
  title: string;
  upvotes: number;
  /** Hugging Face's withdrawnAt, when it withdrew the paper. */
  withdrawnAt?: string;
  /** The day it was published (default: the list day). */
  publishedOn?: string;
}

/** The ISO date `n` days before today (UTC). */
export const daysAgo = (n: number) => new Date(Date.now() - n * 86400_000).toISOString().slice(0, 10);

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
/** "Dec 3", as digests name a day. */
export const shortDay = (iso: string) => `${MONTHS[Number(iso.slice(5, 7)) - 1]} ${Number(iso.slice(8, 10))}`;

/** A saved daily_papers answer of one list day, as `papermail fetch` writes it (stamp: when it was captured). */
export function writeDay(dir: string, listDay: string, entries: DayEntry[], stamp = `${listDay.replace(/-/g, "")}T230000Z`): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `daily_papers_${listDay}_fetched-${stamp}.json`);
  const body = entries.map((e) => ({
    paper: {
      id: e.id,
      title: e.title,
      summary: `${ABSTRACT} ${e.title}.`,
      upvotes: e.upvotes,
      publishedAt: `${e.publishedOn ?? listDay}T00:00:00.000Z`,
      authors: [{ name: "A. Author" }],
      ...(e.withdrawnAt ? { withdrawnAt: e.withdrawnAt } : {}),
    },
    submittedOnDailyAt: `${listDay}T13:00:00.000Z`,
  }));
  writeFileSync(file, JSON.stringify(body));
  return file;
}
