/** One line of `papermail doctor`: what was checked, how it went, and for a fail the exact record or setting that mends it. */
export interface Check {
  name: string;
  status: "pass" | "warn" | "fail";
  detail: string;
  fix: string | null;
}

export const pass = (name: string, detail: string): Check => ({ name, status: "pass", detail, fix: null });
export const warn = (name: string, detail: string, fix: string | null = null): Check => ({ name, status: "warn", detail, fix });
export const fail = (name: string, detail: string, fix: string): Check => ({ name, status: "fail", detail, fix });
