/**
 * A secret's value where the server config says it is: an environment
 * variable (undefined when it is not set), or a file, read as it is but for
 * one trailing newline (editors and `echo` add one). A file that cannot be
 * read throws, saying so.
 */
import { readFileSync } from 'node:fs';
import type { ServerConfig } from './server.schema.ts';

export type SecretSource = NonNullable<ServerConfig['secrets']>[string];

export function readSecretValue(secret: SecretSource): string | undefined {
  if ('env' in secret && secret.env) return process.env[secret.env];
  if ('file' in secret && secret.file) return readFileSync(secret.file, 'utf8').replace(/\r?\n$/, '');
  return undefined;
}
