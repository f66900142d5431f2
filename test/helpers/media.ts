// Multipart uploads as a browser or a data connector sends them (fetch + FormData), and the
// session and photo fixtures the media tests share.
import { pngImage } from '../../src/demo/media.ts';
import { dataOf } from './factories.ts';
import { ADMIN_TOKEN, type GraphQLResponse, type TestGateway } from './gateway.ts';

export { pngImage };

export interface FilePart {
  name: string;
  type: string;
  bytes: Uint8Array;
}

export interface UploadOptions {
  token?: string | null;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** The variable that receives the file; `file` by default. */
  variable?: string;
}

export async function postMultipart(
  gw: TestGateway,
  query: string,
  variables: Record<string, unknown>,
  files: FilePart[],
  options: UploadOptions = {},
): Promise<{ status: number; body: GraphQLResponse }> {
  const form = new FormData();
  const variable = options.variable ?? 'file';
  const map: Record<string, string[]> = {};
  files.forEach((_, index) => (map[String(index)] = [files.length === 1 ? `variables.${variable}` : `variables.${variable}.${index}`]));
  form.append('operations', JSON.stringify({ query, variables: { ...variables, [variable]: null } }));
  form.append('map', JSON.stringify(map));
  files.forEach((file, index) => form.append(String(index), new Blob([file.bytes as Uint8Array<ArrayBuffer>], { type: file.type }), file.name));
  const token = options.token === undefined ? ADMIN_TOKEN : options.token;
  const response = await fetch(gw.graphqlUrl, {
    method: 'POST',
    headers: { 'x-graphql-csrf': '1', ...(token ? { authorization: `Bearer ${token}` } : {}), ...options.headers },
    body: form,
    signal: options.signal,
  });
  const text = await response.text();
  let body: GraphQLResponse;
  try {
    body = JSON.parse(text);
  } catch {
    body = { errors: [{ message: text }] };
  }
  return { status: response.status, body };
}

export const UPLOAD_SESSION_MEDIA = `mutation($a: ID!, $s: ID!, $file: Upload!, $input: SessionMediaInput) {
  uploadSessionMedia(applicationId: $a, sessionId: $s, file: $file, input: $input) {
    id uri status size sha256 kind contentType filename source title labels properties url
  }
}`;

export async function uploadPhoto(
  gw: TestGateway,
  place: { applicationId: string; sessionId: string },
  input: Record<string, unknown> = {},
  options: UploadOptions & { file?: FilePart } = {},
) {
  const file = options.file ?? { name: 'photo.png', type: 'image/png', bytes: pngImage(8, 8, [10, 20, 30]) };
  const { body } = await postMultipart(gw, UPLOAD_SESSION_MEDIA, { a: place.applicationId, s: place.sessionId, input }, [file], options);
  return dataOf(body).uploadSessionMedia;
}

export async function createSession(gw: TestGateway, applicationId: string, token: string = ADMIN_TOKEN): Promise<string> {
  return dataOf(
    await gw.gql(
      `mutation($a: ID!) { createSession(input: { applicationId: $a, name: "inspection" }) { id } }`,
      { a: applicationId },
      token,
    ),
  ).createSession.id;
}
