#!/usr/bin/env node
// Non-interactive driver for oidc-provider's built-in dev interactions.
//
//   node interop/login.mjs [--login ID] [--deny] '<authorization URL>'
//     GETs the authorization URL with its own cookie jar, follows redirects by
//     hand (only within the provider's own origin, which must be loopback),
//     signs in (login ID, default "alice", any password), confirms consent,
//     and stops at the first redirect that leaves the provider's origin: the
//     client's redirect_uri. Prints that URL (one line) on stdout, without
//     requesting it, and exits 0. With --deny it cancels at the first
//     interaction page instead (the provider then redirects with
//     error=access_denied, printed the same way).
//
//   node interop/login.mjs [--login ID] --device '<verification_uri>' '<user_code>'
//     Opens the verification URI, submits the user code, confirms the device,
//     signs in, confirms consent, and exits 0 when the provider shows its
//     device-flow success page.
//
// On any unexpected response it prints a diagnostic on stderr and exits 1.
// Uses only Node's built-in fetch (redirect: 'manual').

const MAX_STEPS = 25;
const TIMEOUT_MS = 10_000;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

class Failure extends Error {}

function fail(message) {
  throw new Failure(message);
}

function usage() {
  process.stderr.write(
    'usage: node login.mjs [--login ID] [--deny] <authorization URL>\n'
    + '       node login.mjs [--login ID] --device <verification_uri> <user_code>\n',
  );
  process.exit(2);
}

// ---------------------------------------------------------------- cookie jar

class CookieJar {
  #cookies = new Map(); // `${name}\n${path}` -> { name, value, path }

  store(response, requestUrl) {
    const headers = typeof response.headers.getSetCookie === 'function'
      ? response.headers.getSetCookie()
      : [];
    for (const header of headers) {
      const [pair, ...attrs] = header.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = defaultPath(requestUrl);
      let expired = value === '';
      for (const attr of attrs) {
        const [k, ...rest] = attr.split('=');
        const key = k.trim().toLowerCase();
        const v = rest.join('=').trim();
        if (key === 'path' && v.startsWith('/')) path = v;
        if (key === 'max-age' && Number(v) <= 0) expired = true;
        if (key === 'expires' && Date.parse(v) <= Date.now()) expired = true;
      }
      const id = `${name}\n${path}`;
      if (expired) this.#cookies.delete(id);
      else this.#cookies.set(id, { name, value, path });
    }
  }

  header(url) {
    const { pathname } = new URL(url);
    const matching = [...this.#cookies.values()]
      .filter(({ path }) => pathMatches(pathname, path))
      .sort((a, b) => b.path.length - a.path.length);
    return matching.map(({ name, value }) => `${name}=${value}`).join('; ');
  }
}

function defaultPath(url) {
  const { pathname } = new URL(url);
  const i = pathname.lastIndexOf('/');
  return i <= 0 ? '/' : pathname.slice(0, i);
}

function pathMatches(requestPath, cookiePath) {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath.charAt(cookiePath.length) === '/';
}

// ---------------------------------------------------------------- HTML forms

function decodeEntities(s) {
  return s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (m, e) => {
    const lower = e.toLowerCase();
    if (lower.startsWith('#x')) return String.fromCodePoint(parseInt(lower.slice(2), 16));
    if (lower.startsWith('#')) return String.fromCodePoint(parseInt(lower.slice(1), 10));
    return {
      amp: '&', lt: '<', gt: '>', quot: '"', apos: "'",
    }[lower];
  });
}

function attributes(tagBody) {
  const attrs = {};
  const re = /([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g;
  let m;
  while ((m = re.exec(tagBody)) !== null) {
    attrs[m[1].toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return attrs;
}

function parseForms(html) {
  const forms = [];
  const formRe = /<form\b([^>]*)>([\s\S]*?)<\/form>/gi;
  let m;
  while ((m = formRe.exec(html)) !== null) {
    const attrs = attributes(m[1]);
    const inputs = [];
    const inputRe = /<input\b([^>]*)>/gi;
    let i;
    while ((i = inputRe.exec(m[2])) !== null) inputs.push(attributes(i[1]));
    forms.push({
      id: attrs.id,
      action: attrs.action ?? '',
      method: (attrs.method ?? 'get').toUpperCase(),
      inputs,
    });
  }
  return forms;
}

function pageTitle(html) {
  const m = /<title>([\s\S]*?)<\/title>/i.exec(html);
  return m ? decodeEntities(m[1]).trim() : '';
}

function pageText(html) {
  return decodeEntities(
    html
      .replace(/<style[\s\S]*?<\/style>/gi, '')
      .replace(/<script[\s\S]*?<\/script>/gi, '')
      .replace(/<details[\s\S]*?<\/details>/gi, '')
      .replace(/<[^>]+>/g, ' '),
  ).replace(/\s+/g, ' ').trim().slice(0, 1500);
}

// ---------------------------------------------------------------- the driver

const args = process.argv.slice(2);
let loginId = 'alice';
let deny = false;
let device = false;
const positional = [];
while (args.length) {
  const a = args.shift();
  if (a === '--login') {
    loginId = args.shift();
    if (!loginId) usage();
  } else if (a === '--deny') {
    deny = true;
  } else if (a === '--device') {
    device = true;
  } else if (a === '-h' || a === '--help') {
    usage();
  } else {
    positional.push(a);
  }
}
if (device ? positional.length !== 2 : positional.length !== 1) usage();

const [startUrl, userCode] = positional;
const jar = new CookieJar();
let origin;

async function request(url, { method = 'GET', form } = {}) {
  const headers = { accept: 'text/html' };
  const cookie = jar.header(url);
  if (cookie) headers.cookie = cookie;
  let body;
  if (form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(form).toString();
  }
  let response;
  try {
    response = await fetch(url, {
      method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    fail(`${method} ${url} failed: ${err.cause?.message ?? err.message}`);
  }
  jar.store(response, url);
  const text = await response.text();
  return { response, text };
}

function describe(step, method, url, response, text) {
  const lines = [
    `login.mjs: unexpected response at step ${step}: ${method} ${url}`,
    `  status: ${response.status}`,
  ];
  const location = response.headers.get('location');
  if (location) lines.push(`  location: ${location}`);
  const title = pageTitle(text);
  if (title) lines.push(`  title: ${title}`);
  const content = pageText(text);
  if (content) lines.push(`  text: ${content}`);
  return lines.join('\n');
}

function fieldsFor(form) {
  const fields = [];
  for (const input of form.inputs) {
    if (!input.name || 'disabled' in input) continue;
    const type = (input.type ?? 'text').toLowerCase();
    if (type === 'submit' || type === 'button' || type === 'image' || type === 'reset') continue;
    if (type === 'hidden') fields.push([input.name, input.value ?? '']);
    else if (input.name === 'login') fields.push([input.name, loginId]);
    else if (type === 'password') fields.push([input.name, 'interop-password']);
    else if (input.name === 'user_code') fields.push([input.name, userCode ?? input.value ?? '']);
    else fields.push([input.name, input.value ?? '']);
  }
  return fields;
}

function abortLink(html, base) {
  // The dev interaction layout has "<a href=".../abort">[ Cancel ]</a>".
  const m = /<a\s+href="([^"]*\/abort)"/i.exec(html);
  return m ? new URL(decodeEntities(m[1]), base).href : undefined;
}

async function run() {
  let start;
  try {
    start = new URL(startUrl);
  } catch {
    fail(`not a URL: ${startUrl}`);
  }
  // https: the mutual TLS provider (its test CA trusted through NODE_EXTRA_CA_CERTS).
  if (!['http:', 'https:'].includes(start.protocol) || !LOOPBACK_HOSTS.has(start.hostname)) {
    fail(`refusing to contact ${start.origin}: only loopback providers are supported`);
  }
  origin = start.origin;

  let url = start.href;
  let method = 'GET';
  let form;
  const seen = { login: 0, consent: 0, deviceInput: 0, deviceConfirm: 0 };

  for (let step = 1; step <= MAX_STEPS; step += 1) {
    const { response, text } = await request(url, { method, form });
    const { status } = response;

    if (status >= 300 && status < 400) {
      const location = response.headers.get('location');
      if (!location) fail(describe(step, method, url, response, text));
      const next = new URL(location, url);
      if (next.origin !== origin) {
        if (device) {
          fail(`${describe(step, method, url, response, text)}\n  (device flow left the provider's origin)`);
        }
        return next.href;
      }
      url = next.href;
      method = 'GET';
      form = undefined;
      continue;
    }

    if (status !== 200) fail(describe(step, method, url, response, text));

    const title = pageTitle(text);
    if (device && /Sign-in Success/i.test(title)) return undefined;

    const forms = parseForms(text);
    const post = forms.find((f) => f.method === 'POST');
    if (!post) fail(describe(step, method, url, response, text));

    const action = new URL(post.action || url, url);
    if (action.origin !== origin) {
      // e.g. response_mode=form_post: the response is a form aimed at the client.
      fail(`${describe(step, method, url, response, text)}\n  (form posts to ${action.href}; `
        + 'only query/fragment responses are supported)');
    }

    const names = new Map(post.inputs.map((i) => [i.name, i]));
    const promptValue = names.get('prompt')?.value;
    let kind;
    if (promptValue === 'login') kind = 'login';
    else if (promptValue === 'consent') kind = 'consent';
    else if (post.id === 'op.deviceInputForm') kind = 'deviceInput';
    else if (post.id === 'op.deviceConfirmForm') kind = 'deviceConfirm';
    else fail(describe(step, method, url, response, text));

    if ((kind === 'deviceInput' || kind === 'deviceConfirm') && !device) {
      fail(describe(step, method, url, response, text));
    }
    if (kind === 'deviceInput' && seen.deviceInput > 0) {
      // The code was rejected and the form is shown again.
      fail(`${describe(step, method, url, response, text)}\n  (user code ${userCode} was not accepted)`);
    }
    seen[kind] += 1;
    if (seen[kind] > 3) fail(`${describe(step, method, url, response, text)}\n  (stuck on ${kind})`);

    if (deny && (kind === 'login' || kind === 'consent')) {
      const abort = abortLink(text, url);
      if (!abort) fail(describe(step, method, url, response, text));
      url = abort;
      method = 'GET';
      form = undefined;
      continue;
    }

    url = action.href;
    method = 'POST';
    form = fieldsFor(post);
  }
  fail(`gave up after ${MAX_STEPS} requests`);
  return undefined;
}

try {
  const result = await run();
  if (result !== undefined) process.stdout.write(`${result}\n`);
  process.exit(0);
} catch (err) {
  process.stderr.write(`${err instanceof Failure ? err.message : `login.mjs: ${err.stack}`}\n`);
  process.exit(1);
}
