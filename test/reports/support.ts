import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A real SMTP server (smtp-server) on 127.0.0.1 that keeps every message it accepts, parsed. */
export interface SmtpSink {
  port: number;
  url: string;
  messages: ParsedMail[];
  stop(): Promise<void>;
  /** Listens again on the same port (after `stop`, to end an outage). */
  start(): Promise<void>;
}

export async function startSmtpSink(port = 0): Promise<SmtpSink> {
  const messages: ParsedMail[] = [];
  let server: SMTPServer;
  const listen = (wanted: number) =>
    new Promise<number>((resolve, reject) => {
      server = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS'],
        logger: false,
        onData(stream, _session, callback) {
          simpleParser(stream)
            .then((mail) => {
              messages.push(mail);
              callback();
            })
            .catch((error: Error) => callback(error));
        },
      });
      server.on('error', reject);
      server.listen(wanted, '127.0.0.1', () => resolve((server.server.address() as AddressInfo).port));
    });
  const actual = await listen(port);
  return {
    port: actual,
    url: `smtp://127.0.0.1:${actual}`,
    messages,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
    start: async () => {
      await listen(actual);
    },
  };
}

/** A local HTTP endpoint that records JSON bodies (the report webhook). */
export interface WebhookSink {
  url: string;
  bodies: unknown[];
  /** Status to answer with (200 by default; 500 simulates an outage). */
  status: number;
  stop(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startWebhookSink(): Promise<WebhookSink> {
  const sink: WebhookSink = { url: '', bodies: [], status: 200, stop: async () => undefined };
  const server: Server = createServer((request, response) => {
    readBody(request)
      .then((text) => {
        if (sink.status === 200) sink.bodies.push(JSON.parse(text));
        response.writeHead(sink.status).end();
      })
      .catch(() => response.writeHead(400).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  sink.stop = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return sink;
}
