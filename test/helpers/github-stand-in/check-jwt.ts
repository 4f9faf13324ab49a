/**
 * GitHub's checks of an app's JWT, with its messages: RS256 by the app's
 * key, `iss` the app id, at most 10 minutes long and not expired.
 */
import { createVerify, type KeyObject } from 'node:crypto';

/** What GitHub answers (401) a bad `Authorization: Bearer <jwt>`, or undefined when it is good. */
export function checkJwt(header: string | undefined, publicKey: KeyObject, appId: number): string | undefined {
  const jwt = /^bearer (.+)$/i.exec(header ?? '')?.[1];
  if (!jwt) return 'A JSON web token could not be decoded';
  const [head = '', claims = '', signature = ''] = jwt.split('.');
  const verifier = createVerify('RSA-SHA256').update(`${head}.${claims}`);
  if (!verifier.verify(publicKey, Buffer.from(signature, 'base64url'))) return 'A JSON web token could not be decoded';
  const payload = JSON.parse(Buffer.from(claims, 'base64url').toString()) as {
    iss?: unknown;
    iat?: number;
    exp?: number;
  };
  const now = Math.floor(Date.now() / 1000);
  if (String(payload.iss) !== String(appId)) return "'Issuer' claim ('iss') must be an Integer";
  if (!payload.exp || !payload.iat || payload.exp < now || payload.exp - payload.iat > 600)
    return "'Expiration time' claim ('exp') is too far in the future";
  return undefined;
}
