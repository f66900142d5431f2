// Media.url is absolute, so <img src> works on a frontend served from another origin: from
// PUBLIC_URL when set, else from the address the gateway listens on (known once it listens).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApplication, dataOf } from './helpers/factories.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { createSession, uploadPhoto } from './helpers/media.ts';

async function photoOn(gw: TestGateway) {
  const application = await createApplication(gw);
  return uploadPhoto(gw, { applicationId: application.id, sessionId: await createSession(gw, application.id) });
}

describe('Media.url without PUBLIC_URL', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(() => gw?.stop());

  it('names the address the gateway listens on, and works as it is', async () => {
    const photo = await photoOn(gw);
    expect(photo.url).toMatch(new RegExp(`^${gw.url.replace(/\./g, '\\.')}/media/${photo.id}/content\\?u=`));
    const response = await fetch(photo.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    // Read again later (a gallery), the same holds.
    const again = dataOf(await gw.gql(`query($m: ID!) { media(mediaId: $m) { url } }`, { m: photo.id }));
    expect(again.media.url.startsWith(`${gw.url}/media/`)).toBe(true);
  });
});

describe('Media.url with PUBLIC_URL', () => {
  it('names PUBLIC_URL (a load balancer, a path prefix)', async () => {
    const gw = await startGateway({ PUBLIC_URL: 'https://api.example.com/skylight/' });
    try {
      const photo = await photoOn(gw);
      expect(photo.url).toMatch(new RegExp(`^https://api\\.example\\.com/skylight/media/${photo.id}/content\\?u=`));
    } finally {
      await gw.stop();
    }
  });
});
