// The Graph API that the browser tests' host sends through, played on a loopback port, and the
// run.mjs options of a host whose cloud_api sends to it.
import http from 'node:http';

// Starts the stand-in. `answer(request, body, response, url)` may answer a request itself and
// return true; the others get what Meta answers: a read call (read receipt, typing indicator) is
// acknowledged, a send is accepted with the wamid `${prefix}N` (N counts the sends), a GET reads
// the business number, anything else is a 404.
export async function startGraph({ prefix = 'wamid.BROWSER', answer = null } = {}) {
  let sent = 0;
  const graph = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => { body += chunk; });
    request.on('end', () => {
      response.setHeader('Content-Type', 'application/json');
      const url = new URL(request.url, 'http://localhost');
      if (answer && answer(request, body, response, url)) return;
      if (request.method === 'POST' && url.pathname.endsWith('/messages')) {
        if (body.includes('"status":"read"')) return response.end('{"success":true}');
        sent += 1;
        return response.end(JSON.stringify({ messaging_product: 'whatsapp', contacts: [{ input: 'x', wa_id: 'x' }],
          messages: [{ id: `${prefix}${sent}` }] }));
      }
      if (request.method === 'GET') return response.end('{"id":"100000000000001"}');
      response.statusCode = 404;
      response.end('{}');
    });
  });
  await new Promise((resolve) => graph.listen(0, '127.0.0.1', resolve));
  graph.unref();
  return graph;
}

// The six plugins with cloud_api pointed at `graph`, the dispatch chain and the settings a send
// needs (run.mjs reads them before it writes the host's configuration).
export function cloudApiHost(graph, { chain = 'cloud_api, outbox', adminInbox = '{}', secret = 'browser-test-app-secret',
  token = 'browser-test-token' } = {}) {
  return {
    plugins: {
      webhook_receiver: '{}',
      contact_matcher: '{}',
      inbound_router: '{}',
      cloud_api: `{ graph_url: "http://127.0.0.1:${graph.address().port}", api_version: v21.0, messages_per_second: 100, timeout_ms: 2000 }`,
      outbox: '{}',
      admin_inbox: adminInbox,
    },
    extraYaml: `dispatch:\n  chain: [${chain}]\n`,
    settings: [
      ['whatsapp.cloud.app_secret', secret],
      ['whatsapp.cloud.access_token', token],
      ['whatsapp.cloud.phone_number_id', '100000000000001'],
    ],
  };
}
