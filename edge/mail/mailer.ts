import { desc, eq } from "drizzle-orm";
import { KaiError } from "../../shared/errors";
import type { Config } from "../config";
import type { Db } from "../db/client";
import { devMailbox } from "../db/schema";

interface MailMessage {
  to: string;
  subject: string;
  text: string;
  /** The verification code the message carries, kept by the development mailer for tests and newcomers. */
  code?: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

/** Development and tests: keep every message in D1 and log it, so no mail service is needed. */
function devMailer(db: Db): Mailer {
  return {
    async send(message) {
      await db
        .insert(devMailbox)
        .values({ id: crypto.randomUUID(), ...message, code: message.code ?? null, createdAt: new Date() });
      console.log(`kai mail to ${message.to}: ${message.subject}${message.code ? ` (code ${message.code})` : ""}`);
    },
  };
}

const MAIL_TIMEOUT_MS = 10_000;

/**
 * Production: one JSON POST to an HTTP mail API (`{from, to, subject, text}` with a bearer
 * key, the shape Resend and similar services accept), configured by secrets.
 */
export function httpMailer(config: Config): Mailer {
  return {
    async send(message) {
      if (!config.MAIL_API_URL || !config.MAIL_API_KEY || !config.MAIL_FROM) {
        console.error("kai: MAIL_API_URL, MAIL_API_KEY and MAIL_FROM must be set to send mail");
        throw new KaiError("INTERNAL_ERROR", "mail is not configured on this server");
      }
      let response: Response;
      try {
        response = await fetch(config.MAIL_API_URL, {
          method: "POST",
          headers: { authorization: `Bearer ${config.MAIL_API_KEY}`, "content-type": "application/json" },
          body: JSON.stringify({
            from: config.MAIL_FROM,
            to: message.to,
            subject: message.subject,
            text: message.text,
          }),
          signal: AbortSignal.timeout(MAIL_TIMEOUT_MS),
        });
      } catch (error) {
        console.error("kai: mail API unreachable:", error);
        throw new KaiError("NETWORK_ERROR", "the email could not be sent; try again in a minute");
      }
      if (!response.ok) {
        console.error(`kai: mail API answered ${response.status}: ${(await response.text()).slice(0, 500)}`);
        throw new KaiError("NETWORK_ERROR", "the email could not be sent; try again in a minute");
      }
    },
  };
}

export function mailerFor(config: Config, db: Db): Mailer {
  return config.ENVIRONMENT === "production" ? httpMailer(config) : devMailer(db);
}

export async function latestMessages(db: Db, to: string, limit = 10) {
  const rows = await db
    .select()
    .from(devMailbox)
    .where(eq(devMailbox.to, to))
    .orderBy(desc(devMailbox.createdAt))
    .limit(limit);
  return rows.map((row) => ({
    id: row.id,
    to: row.to,
    subject: row.subject,
    text: row.text,
    code: row.code,
    created_at: row.createdAt.toISOString(),
  }));
}
