// Webhook signing secrets. Standard Webhooks signs with HMAC-SHA256, so the gateway needs the
// secret itself, not a hash of it: it is stored AES-256-GCM encrypted under a key derived from
// WEBHOOK_SECRET_KEY (JWT_SECRET unless set), with the webhook id as associated data, so that
// a sealed secret copied onto another row does not open. The key's fingerprint is stored in
// front of each sealed value, so a changed key is told apart from a damaged value.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

/** `whsec_` and 32 random bytes in base64, the format of the Standard Webhooks libraries. */
export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

const VERSION = 'v1';

export type OpenResult = { secret: string } | { error: 'KEY_CHANGED' | 'DAMAGED' };

export class SecretBox {
  private readonly key: Buffer;
  /** A fingerprint of the key (not the key): which key sealed a value. */
  readonly keyId: string;

  constructor(material: string) {
    this.key = Buffer.from(hkdfSync('sha256', material, 'skylight-gateway', 'webhook signing secrets', 32));
    this.keyId = createHash('sha256').update(this.key).digest('hex').slice(0, 12);
  }

  seal(secret: string, webhookId: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(webhookId));
    const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return [VERSION, this.keyId, iv.toString('base64url'), sealed.toString('base64url')].join('.');
  }

  open(value: string, webhookId: string): OpenResult {
    const [version, keyId, iv, sealed] = value.split('.');
    if (version !== VERSION || !iv || !sealed) return { error: 'DAMAGED' };
    if (keyId !== this.keyId) return { error: 'KEY_CHANGED' };
    try {
      const bytes = Buffer.from(sealed, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(webhookId));
      decipher.setAuthTag(bytes.subarray(bytes.length - 16));
      const secret = Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]).toString('utf8');
      return { secret };
    } catch {
      return { error: 'DAMAGED' };
    }
  }
}
