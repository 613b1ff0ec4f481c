import nodemailer from 'nodemailer';
import type { Mailer } from '../ports.ts';

/** Nodemailer over `SMTP_URL` (smtp:// or smtps://). One transport per process, pooled connections off. */
export function createSmtpMailer(url: string): Mailer {
  const transport = nodemailer.createTransport(url);
  return {
    async send(mail) {
      await transport.sendMail({
        from: mail.from,
        to: mail.to,
        subject: mail.subject,
        html: mail.html,
        text: mail.text,
        messageId: mail.messageId,
        attachments: mail.attachments.map((a) => ({ filename: a.filename, cid: a.cid, content: a.content, contentType: a.contentType })),
      });
    },
    async close() {
      transport.close();
    },
  };
}
