// The GraphiQL page as a browser gets it, and the options it starts GraphiQL with.
export interface PageOptions {
  variables: string;
  headers?: string;
  defaultTabs: { query: string; variables: string; headers?: string }[];
  [key: string]: unknown;
}

export async function fetchGraphiQL(url: string, headers: Record<string, string> = {}): Promise<{ status: number; html: string; options: PageOptions | null }> {
  const response = await fetch(url, { headers: { accept: 'text/html', ...headers } });
  const html = await response.text();
  const match = /renderYogaGraphiQL\(document\.querySelector\('#root'\), (.*)\);\n/.exec(html);
  return { status: response.status, html, options: match ? (JSON.parse(match[1]!) as PageOptions) : null };
}
