// Interop authorization server for latchkey: panva's oidc-provider on 127.0.0.1.
//
// Usage: node interop/server.mjs            (picks a free port itself)
//        PORT=4000 node interop/server.mjs  (fixed port)
//
// Once the server accepts connections it prints exactly one line on stdout:
//   ISSUER=http://127.0.0.1:<port>
// (https:// with INTEROP_TLS_DIR: mutual TLS, RFC 8705, see below and README.md).
// Everything else (oidc-provider notices, request log with INTEROP_DEBUG=1)
// goes to stderr. It runs until SIGTERM or SIGINT.
//
// See README.md next to this file for the clients and the facts this
// configuration relies on.

import { X509Certificate, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { join } from 'node:path';

// oidc-provider prints its notices with console.info/console.log (stdout).
// stdout is reserved for the single ISSUER line, so send those to stderr.
console.log = (...args) => console.error(...args);
console.info = (...args) => console.error(...args);

// oidc-provider 9 warns "Unsupported runtime" on anything older than Node 22
// LTS while importing; the interop suite is run (and smoke-tested) on Node 20.
// Drop exactly that one message, only while the module is being imported.
console.warn = (...args) => {
  if (typeof args[0] === 'string' && args[0].includes('Unsupported runtime')) return;
  console.error(...args);
};
const { Provider, errors } = await import('oidc-provider');
console.warn = (...args) => console.error(...args);

const DEBUG = process.env.INTEROP_DEBUG === '1';

// Loopback redirect URIs. All clients with redirects are `native`, so
// oidc-provider ignores the port when comparing loopback redirect URIs
// (RFC 8252 section 7.3): http://127.0.0.1:54321/callback matches
// http://127.0.0.1/callback. Scheme, host and path must still match exactly.
const LOOPBACK_REDIRECT_URIS = [
  'http://127.0.0.1/callback',
  'http://localhost/callback',
  'http://[::1]/callback',
];

const CODE_GRANTS = {
  application_type: 'native',
  redirect_uris: LOOPBACK_REDIRECT_URIS,
  post_logout_redirect_uris: ['http://127.0.0.1/logged-out'],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
};

// Mutual TLS (RFC 8705), with INTEROP_TLS_DIR=<dir> holding PEM files made by
// the Rust test (crates/latchkey-interop/src/mtls.rs): ca.pem (the test CA),
// server.pem + server-key.pem (for 127.0.0.1 and localhost, from that CA),
// client.pem (the CA's client certificate, CN=latchkey-mtls-client) and
// self-signed.pem (a self-signed client certificate). The server then speaks
// HTTPS, asks every connection for a certificate (and takes any: the checks
// are oidc-provider's), and serves the token, userinfo, introspection,
// revocation, device authorization and PAR endpoints a second time under
// /mtls/..., advertised as mtls_endpoint_aliases. Only requests to those
// aliases count the client certificate (getCertificate below), so a client
// that ignores the aliases fails tls_client_auth and certificate binding.
const TLS_DIR = process.env.INTEROP_TLS_DIR;
const tlsFile = (name) => readFileSync(join(TLS_DIR, name), 'utf8');
const MTLS_PREFIX = '/mtls';
const MTLS_ALIASES = {
  token_endpoint: '/token',
  userinfo_endpoint: '/me',
  introspection_endpoint: '/token/introspection',
  revocation_endpoint: '/token/revocation',
  device_authorization_endpoint: '/device/auth',
  pushed_authorization_request_endpoint: '/request',
};
const MTLS_GRANTS = {
  ...CODE_GRANTS,
  grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
  tls_client_certificate_bound_access_tokens: true,
};
function mtlsClients() {
  if (!TLS_DIR) return [];
  const selfSigned = new X509Certificate(tlsFile('self-signed.pem'));
  return [
    {
      client_id: 'mtls-ca',
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_subject_dn: 'CN=latchkey-mtls-client',
      ...MTLS_GRANTS,
    },
    {
      client_id: 'mtls-self-signed',
      token_endpoint_auth_method: 'self_signed_tls_client_auth',
      jwks: {
        keys: [{
          ...selfSigned.publicKey.export({ format: 'jwk' }),
          x5c: [selfSigned.raw.toString('base64')],
        }],
      },
      ...MTLS_GRANTS,
    },
  ];
}

const clients = [
  {
    client_id: 'conf-basic',
    client_secret: 'conf-basic-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    ...CODE_GRANTS,
  },
  {
    client_id: 'conf-post',
    client_secret: 'conf-post-secret',
    token_endpoint_auth_method: 'client_secret_post',
    ...CODE_GRANTS,
  },
  {
    client_id: 'public-pkce',
    token_endpoint_auth_method: 'none',
    ...CODE_GRANTS,
  },
  // ID tokens signed with ES256 and EdDSA (the others get oidc-provider's
  // default, RS256).
  {
    client_id: 'oidc-es256',
    client_secret: 'oidc-es256-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'ES256',
    ...CODE_GRANTS,
  },
  {
    client_id: 'oidc-eddsa',
    client_secret: 'oidc-eddsa-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'EdDSA',
    ...CODE_GRANTS,
  },
  {
    client_id: 'cc-client',
    client_secret: 'cc-client-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    application_type: 'web',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  },
  {
    client_id: 'device-client',
    token_endpoint_auth_method: 'none',
    application_type: 'native',
    grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
    response_types: [],
    redirect_uris: [],
  },
  ...mtlsClients(),
];

// JWT client authentication (RFC 7523): one private_key_jwt client per algorithm, with a
// key pair made fresh per run, and a client_secret_jwt client. The private keys go to the
// file named by INTEROP_CLIENT_KEYS (mode 0600), as {client_id: {alg, kid, pem}}, for the
// tests to sign with.
const JWT_CLIENTS = { 'jwt-es256': 'ES256', 'jwt-rs256': 'RS256', 'jwt-ps256': 'PS256', 'jwt-eddsa': 'EdDSA' };
const JWT_GRANTS = {
  ...CODE_GRANTS,
  grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
};
const clientKeys = Object.entries(JWT_CLIENTS).map(([id, alg]) => {
  const pair = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : alg === 'EdDSA' ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = `${id}-${randomBytes(4).toString('hex')}`;
  return {
    id,
    alg,
    kid,
    pem: pair.privateKey.export({ format: 'pem', type: 'pkcs8' }),
    jwk: { ...pair.publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' },
  };
});
if (process.env.INTEROP_CLIENT_KEYS) {
  const out = Object.fromEntries(clientKeys.map((k) => [k.id, { alg: k.alg, kid: k.kid, pem: k.pem }]));
  writeFileSync(process.env.INTEROP_CLIENT_KEYS, JSON.stringify(out), { mode: 0o600 });
}
clients.push(
  ...clientKeys.map((k) => ({
    client_id: k.id,
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: k.alg,
    jwks: { keys: [k.jwk] },
    ...JWT_GRANTS,
  })),
  {
    client_id: 'jwt-secret',
    client_secret: 'jwt-secret-secret-0123456789abcdef-0123456789abcdef',
    token_endpoint_auth_method: 'client_secret_jwt',
    token_endpoint_auth_signing_alg: 'HS256',
    ...JWT_GRANTS,
  },
  // DPoP (RFC 9449): clients whose access tokens must be DPoP-bound.
  {
    client_id: 'dpop-public',
    token_endpoint_auth_method: 'none',
    dpop_bound_access_tokens: true,
    ...CODE_GRANTS,
  },
  {
    client_id: 'dpop-cc',
    client_secret: 'dpop-cc-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    dpop_bound_access_tokens: true,
    application_type: 'web',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  },
);

function accountClaims(id) {
  const local = String(id).toLowerCase().replace(/[^a-z0-9._-]/g, '_') || 'user';
  return {
    sub: String(id),
    email: `${local}@example.com`,
    email_verified: true,
    name: String(id).charAt(0).toUpperCase() + String(id).slice(1),
  };
}

// Signing keys: RS256, ES256 and EdDSA, fresh per run. With INTEROP_KEYS=<file>
// the set is kept in that file and read back by the next run (a restart with
// the same keys); with INTEROP_ROTATE=1 as well, a new set is put in front of
// the kept one (oidc-provider signs with the first key of an algorithm, and
// still publishes the old keys): a key rotation across a restart.
function newKeys() {
  const id = randomBytes(6).toString('hex');
  const jwk = (pair, alg) => ({
    ...pair.privateKey.export({ format: 'jwk' }),
    kid: `interop-${alg.toLowerCase()}-${id}`,
    use: 'sig',
    alg,
  });
  return [
    jwk(generateKeyPairSync('rsa', { modulusLength: 2048 }), 'RS256'),
    jwk(generateKeyPairSync('ec', { namedCurve: 'P-256' }), 'ES256'),
    jwk(generateKeyPairSync('ed25519'), 'EdDSA'),
  ];
}

function signingKeys() {
  const file = process.env.INTEROP_KEYS;
  if (!file) return newKeys();
  const kept = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).keys : [];
  const keys = kept.length === 0 || process.env.INTEROP_ROTATE === '1'
    ? [...newKeys(), ...kept]
    : kept;
  writeFileSync(file, JSON.stringify({ keys }), { mode: 0o600 });
  return keys;
}

const configuration = {
  clients,
  jwks: { keys: signingKeys() },
  cookies: {
    keys: ['latchkey-interop-cookie-key-1', 'latchkey-interop-cookie-key-0'],
  },
  // Only the methods the clients above use (also what discovery advertises).
  clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none', 'private_key_jwt', 'client_secret_jwt',
    ...(TLS_DIR ? ['tls_client_auth', 'self_signed_tls_client_auth'] : [])],
  scopes: ['openid', 'offline_access', 'profile', 'email', 'api:read'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  async findAccount(_ctx, id) {
    return {
      accountId: id,
      async claims() {
        return accountClaims(id);
      },
    };
  },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: {
      enabled: true,
      // Same policy as the default, set explicitly (silences its notice):
      // confidential clients may introspect any token, public clients only
      // their own.
      async allowedPolicy(ctx, client, token) {
        return !(client.clientAuthMethod === 'none' && token.clientId !== ctx.oidc.client.clientId);
      },
    },
    revocation: {
      enabled: true,
      // Same policy as the default: a client may only revoke its own tokens.
      async allowedPolicy(_ctx, client, token) {
        if (token.clientId !== client.clientId) {
          if (client.clientAuthMethod === 'none') return false;
          throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
        }
        return true;
      },
    },
    deviceFlow: { enabled: true },
    // DPoP (RFC 9449); with INTEROP_DPOP_NONCE=1 every DPoP request needs a server nonce.
    dPoP: {
      enabled: true,
      nonceSecret: randomBytes(32),
      requireNonce: () => process.env.INTEROP_DPOP_NONCE === '1',
    },
    pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false },
    userinfo: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    // Left off on purpose: with it on, tokens are audience-restricted by
    // resource and plain client_credentials / userinfo get harder to use.
    resourceIndicators: { enabled: false },
    mTLS: {
      enabled: Boolean(TLS_DIR),
      certificateBoundAccessTokens: true,
      selfSignedTlsClientAuth: true,
      tlsClientAuth: true,
      // The peer certificate (PEM), only on the /mtls/ aliases.
      getCertificate(ctx) {
        if (!ctx.state.mtlsAlias) return undefined;
        const peer = ctx.socket.getPeerX509Certificate?.();
        return peer ? peer.toString() : undefined;
      },
      // Chained to the test CA (the server's `ca`): Node checked it in the handshake.
      certificateAuthorized(ctx) {
        return ctx.socket.authorized === true;
      },
      // Only tls_client_auth_subject_dn is used, with a one-attribute subject.
      certificateSubjectMatches(ctx, property, expected) {
        const peer = ctx.socket.getPeerX509Certificate?.();
        if (!peer || property !== 'tls_client_auth_subject_dn') return false;
        return peer.subject.split('\n').reverse().join(',') === expected;
      },
    },
  },
  pkce: {
    // PKCE (S256 only; oidc-provider 9 does not support "plain") is required
    // for public clients and optional for confidential ones.
    required: (_ctx, client) => client.clientAuthMethod === 'none',
  },
  // Refresh tokens for every client allowed the refresh_token grant, whether
  // or not offline_access ended up in the grant.
  async issueRefreshToken(_ctx, client) {
    return client.grantTypeAllowed('refresh_token');
  },
  ttl: {
    AccessToken: 3600,
    AuthorizationCode: 300,
    ClientCredentials: 3600,
    DeviceCode: 600,
    IdToken: 3600,
    RefreshToken: 24 * 60 * 60,
    Interaction: 3600,
    PushedAuthorizationRequest: 300,
    Session: 24 * 60 * 60,
    Grant: 24 * 60 * 60,
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    const esc = (v) => String(v).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    ctx.body = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>oops! something went wrong</title></head><body>
<h1>oops! something went wrong</h1>
${Object.entries(out).map(([k, v]) => `<pre><strong>${esc(k)}</strong>: ${esc(v)}</pre>`).join('\n')}
</body></html>`;
  },
};

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server.address().port);
    });
  });
}

const requestedPort = process.env.PORT ? Number.parseInt(process.env.PORT, 10) : 0;
if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535) {
  console.error(`invalid PORT: ${process.env.PORT}`);
  process.exit(2);
}

// Listen first (port 0 = the kernel picks a free one, no race), then build
// the provider with the issuer that includes the actual port.
const server = TLS_DIR
  ? https.createServer({
    key: tlsFile('server-key.pem'),
    cert: tlsFile('server.pem'),
    ca: tlsFile('ca.pem'),
    requestCert: true,
    rejectUnauthorized: false,
  })
  : http.createServer();
const port = await listen(server, requestedPort);
const issuer = `${TLS_DIR ? 'https' : 'http'}://127.0.0.1:${port}`;
const provider = new Provider(issuer, configuration);

// STRICT client authentication.
//
// oidc-provider 9 accepts a client_secret in the body from a client
// registered for client_secret_basic and HTTP Basic from a client registered
// for client_secret_post (lib/shared/client_auth.js treats both as one
// family). There is no configuration switch for this, so the secret check
// itself is wrapped: it runs inside the request's async context
// (Provider.ctx), after the provider has already rejected requests that use
// more than one mechanism, and it fails with invalid_client (401) when the
// mechanism used is not the one the client registered. Applies to every
// endpoint that authenticates clients (token, introspection, revocation,
// PAR, device authorization).
{
  const { Client } = provider;
  const compareClientSecret = Client.prototype.compareClientSecret;
  Client.prototype.compareClientSecret = function strictCompareClientSecret(actual) {
    const ctx = Provider.ctx;
    if (!ctx?.oidc) {
      throw new errors.InvalidClientAuth('client authentication outside of a request context');
    }
    const used = ctx.oidc.params?.client_secret ? 'client_secret_post' : 'client_secret_basic';
    if (used === 'client_secret_basic' && ctx.headers.authorization === undefined) {
      throw new errors.InvalidClientAuth('no client secret presented');
    }
    if (used !== this.clientAuthMethod) {
      throw new errors.InvalidClientAuth(
        `client is registered for ${this.clientAuthMethod} but authenticated with ${used}`,
      );
    }
    return compareClientSecret.call(this, actual);
  };
}

// offline_access without prompt=consent.
//
// oidc-provider 9 removes offline_access from an authorization (or PAR)
// request unless its prompt parameter contains "consent"
// (lib/actions/authorization/scopes.js, per OIDC Core 11). For the interop
// clients (all `native`, which oidc-provider always sends through the consent
// prompt anyway) we add "consent" to prompt whenever offline_access is
// requested, so the scope is kept, shows up in the grant and in the token
// response. Requests with prompt=none or with a duplicated prompt are left
// alone. issueRefreshToken above makes refresh tokens independent of this.
function keepOfflineAccess(params) {
  const scopes = (params.get('scope') ?? '').split(' ');
  const prompts = params.getAll('prompt');
  if (!scopes.includes('offline_access') || prompts.length > 1) return false;
  const prompt = new Set((prompts[0] ?? '').split(' ').filter(Boolean));
  if (prompt.has('none') || prompt.has('consent')) return false;
  prompt.add('consent');
  params.set('prompt', [...prompt].join(' '));
  return true;
}

async function readBody(req, limit = 56 * 1024) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw new errors.InvalidRequest('request entity too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

// The mTLS aliases: /mtls/<endpoint> is <endpoint>, with the client certificate
// counted (getCertificate above); discovery lists them.
if (TLS_DIR) {
  provider.use(async (ctx, next) => {
    if (ctx.path.startsWith(`${MTLS_PREFIX}/`)) {
      ctx.state.mtlsAlias = true;
      ctx.path = ctx.path.slice(MTLS_PREFIX.length);
    }
    await next();
    if (ctx.path.startsWith('/.well-known/') && ctx.status === 200 && ctx.body?.issuer) {
      ctx.body.mtls_endpoint_aliases = Object.fromEntries(Object.entries(MTLS_ALIASES)
        .map(([name, path]) => [name, `${issuer}${MTLS_PREFIX}${path}`]));
    }
  });
}

provider.use(async (ctx, next) => {
  const isAuth = ctx.path === '/auth';
  const isPar = ctx.path === '/request';
  if (ctx.method === 'GET' && isAuth) {
    const params = new URLSearchParams(ctx.querystring);
    if (keepOfflineAccess(params)) ctx.querystring = params.toString();
  } else if (ctx.method === 'POST' && (isAuth || isPar)
    && ctx.is('application/x-www-form-urlencoded') && ctx.req.readable) {
    // Hand the (possibly rewritten) body to oidc-provider as a pre-parsed
    // body, which it supports (it logs a one-time notice about it).
    const params = new URLSearchParams(await readBody(ctx.req));
    keepOfflineAccess(params);
    ctx.req.body = params.toString();
  }
  await next();
});

provider.on('server_error', (ctx, err) => {
  console.error(`server_error on ${ctx.method} ${ctx.path}:`, err);
});

if (DEBUG) {
  provider.use(async (ctx, next) => {
    await next();
    console.error(`${ctx.method} ${ctx.path} -> ${ctx.status}`);
  });
  for (const event of ['grant.error', 'introspection.error', 'revocation.error', 'authorization.error',
    'pushed_authorization_request.error', 'device_authorization.error']) {
    provider.on(event, (_ctx, err) => {
      console.error(`${event}: ${err.error} ${err.error_description ?? ''} ${err.error_detail ?? ''}`);
    });
  }
}

server.on('request', provider.callback());

process.stdout.write(`ISSUER=${issuer}\n`);

let stopping = false;
function stop(signal) {
  if (stopping) return;
  stopping = true;
  console.error(`interop server: ${signal}, shutting down`);
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
