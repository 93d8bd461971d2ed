#!/usr/bin/env node
// Interop peer built on @sd-jwt/sd-jwt-vc + @sd-jwt/crypto-nodejs (0.19).
//
//   node js_peer.mjs issue   --issuer-key F --holder-jwk F --iss URL --vct URL --claims F
//                            [--sd PTR]... [--exp SECONDS] [--typ TYP]      -> SD-JWT
//   node js_peer.mjs present --holder-key F --aud AUD --nonce NONCE [--disclose PTR]... < sd-jwt
//                                                                            -> SD-JWT+KB
//   node js_peer.mjs verify  --issuer-jwk F --aud AUD --nonce NONCE [--typ TYP] < presentation
//                                                                            -> disclosed claims
//   node js_peer.mjs rebind  --holder-key F --aud AUD --nonce NONCE < presentation
//       drop the KB-JWT and sign a fresh one over whatever disclosures are there (even tampered
//       ones): lets a negative test isolate the verifier's disclosure-digest check.
//
// PTR is a JSON pointer into the *issued claims* (`/course/level`, `/skills/1`); an array index
// counts the credential's real elements, not the digests and decoys of the packed array.
// Without --disclose, `present` discloses everything. Errors: stderr, exit status 1.

import { readFileSync } from 'node:fs';
import crypto from 'node:crypto';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { ES256, digest, generateSalt } from '@sd-jwt/crypto-nodejs';

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));
const readStdin = () => readFileSync(0, 'utf8').trim();

function algOf(jwk) {
  if (jwk.alg) return jwk.alg;
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  throw new Error(`cannot tell the alg of JWK kty=${jwk.kty} crv=${jwk.crv}`);
}

// @sd-jwt/crypto-nodejs only has ES256/384/512 helpers: EdDSA goes through node:crypto.
async function signerFor(privateJwk) {
  const alg = algOf(privateJwk);
  if (alg === 'ES256') return { alg, sign: await ES256.getSigner(privateJwk) };
  if (alg === 'EdDSA' || alg === 'Ed25519') {
    const key = crypto.createPrivateKey({ key: privateJwk, format: 'jwk' });
    return { alg, sign: async (data) => b64url(crypto.sign(null, Buffer.from(data), key)) };
  }
  throw new Error(`unsupported alg ${alg}`);
}

async function verifierFor(publicJwk) {
  const { d, ...pub } = publicJwk; // never hand a private member to a verifier
  const alg = algOf(pub);
  if (alg === 'ES256') return ES256.getVerifier(pub);
  if (alg === 'EdDSA' || alg === 'Ed25519') {
    const key = crypto.createPublicKey({ key: pub, format: 'jwk' });
    return async (data, sig) => crypto.verify(null, Buffer.from(data), key, Buffer.from(sig, 'base64url'));
  }
  throw new Error(`unsupported alg ${alg}`);
}

function parsePointer(ptr) {
  if (ptr === '') return [];
  if (!ptr.startsWith('/')) throw new Error(`not a JSON pointer: ${ptr}`);
  return ptr.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parseArgs(argv, spec) {
  // spec: { name: 'single' | 'multi' }
  const out = {};
  for (const [k, kind] of Object.entries(spec)) if (kind === 'multi') out[k] = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (!flag.startsWith('--') || !(flag.slice(2) in spec)) throw new Error(`unknown argument ${flag}`);
    const name = flag.slice(2);
    const value = argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (spec[name] === 'multi') out[name].push(value);
    else out[name] = value;
  }
  return out;
}

function need(args, ...names) {
  for (const n of names) if (args[n] === undefined) throw new Error(`--${n} is required`);
}

// ---------------------------------------------------------------------------- issue

// Pointers -> the library's disclosure frame: { _sd: [names or indexes], child: {...} }.
function disclosureFrame(claims, pointers) {
  const frame = {};
  for (const ptr of pointers) {
    const segs = parsePointer(ptr);
    let node = frame;
    let value = claims;
    segs.forEach((seg, i) => {
      if (value === null || typeof value !== 'object' || !(seg in value)) {
        throw new Error(`--sd ${ptr}: no such claim`);
      }
      const key = Array.isArray(value) ? Number.parseInt(seg, 10) : seg;
      if (i === segs.length - 1) {
        node._sd = node._sd ?? [];
        node._sd.push(key);
      } else {
        node[key] = node[key] ?? {};
        node = node[key];
        value = value[key];
      }
    });
  }
  frame._sd_decoy = 2; // two decoy digests in the top-level _sd
  return frame;
}

async function issue(argv) {
  const a = parseArgs(argv, {
    'issuer-key': 'single', 'holder-jwk': 'single', iss: 'single', vct: 'single',
    claims: 'single', sd: 'multi', exp: 'single', typ: 'single',
  });
  need(a, 'issuer-key', 'holder-jwk', 'iss', 'vct', 'claims');
  const issuerJwk = readJson(a['issuer-key']);
  const { d, ...holderJwk } = readJson(a['holder-jwk']);
  const claims = readJson(a.claims);
  const { alg, sign } = await signerFor(issuerJwk);
  const sdjwt = new SDJwtVcInstance({ signer: sign, signAlg: alg, hasher: digest, saltGenerator: generateSalt });
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    iss: a.iss,
    vct: a.vct,
    iat: now,
    exp: now + Number(a.exp ?? 3600),
    cnf: { jwk: holderJwk },
    ...claims,
  };
  // The instance's type is dc+sd-jwt by default in 0.19; --typ overrides it for negative tests.
  const options = a.typ ? { header: { typ: a.typ } } : undefined;
  console.log(await sdjwt.issue(payload, disclosureFrame(claims, a.sd), options));
}

// ---------------------------------------------------------------------------- present

function decodeCompact(token) {
  const parts = token.split('~');
  const payload = JSON.parse(Buffer.from(parts[0].split('.')[1], 'base64url').toString('utf8'));
  const byDigest = new Map();
  for (const d of parts.slice(1, -1)) {
    if (!d) continue;
    const h = b64url(crypto.createHash('sha256').update(d, 'ascii').digest());
    byDigest.set(h, JSON.parse(Buffer.from(d, 'base64url').toString('utf8')));
  }
  return { payload, byDigest };
}

// Pointers over the issued claims -> the library's presentation frame, whose array keys are
// positions in the *packed* array (decoys count). segsList: array of segment arrays.
function presentationFrame(node, segsList, byDigest) {
  const frame = {};
  if (Array.isArray(node)) {
    const real = [];
    node.forEach((el, pos) => {
      const isRef = el && typeof el === 'object' && !Array.isArray(el) && Object.keys(el).length === 1 && '...' in el;
      if (!isRef) real.push([pos, el]);
      else if (byDigest.has(el['...'])) real.push([pos, byDigest.get(el['...'])[1]]);
    });
    for (const segs of segsList) {
      const idx = Number.parseInt(segs[0], 10);
      if (!(idx < real.length)) throw new Error(`no array element ${idx} to disclose`);
      const [pos, value] = real[idx];
      const rest = segsList.filter((s) => s[0] === segs[0] && s.length > 1).map((s) => s.slice(1));
      frame[pos] = rest.length ? presentationFrame(value, rest, byDigest) : true;
    }
    return frame;
  }
  if (node && typeof node === 'object') {
    const children = { ...node };
    delete children._sd;
    delete children._sd_alg;
    for (const dg of node._sd ?? []) {
      const disc = byDigest.get(dg);
      if (disc) children[disc[1]] = disc[2];
    }
    for (const segs of segsList) {
      const name = segs[0];
      if (!(name in children)) throw new Error(`no claim ${name} to disclose`);
      const rest = segsList.filter((s) => s[0] === name && s.length > 1).map((s) => s.slice(1));
      frame[name] = rest.length ? presentationFrame(children[name], rest, byDigest) : true;
    }
    return frame;
  }
  throw new Error('cannot descend into a scalar');
}

async function present(argv) {
  const a = parseArgs(argv, { 'holder-key': 'single', aud: 'single', nonce: 'single', disclose: 'multi' });
  need(a, 'holder-key', 'aud', 'nonce');
  const credential = readStdin();
  const { alg, sign } = await signerFor(readJson(a['holder-key']));
  const sdjwt = new SDJwtVcInstance({ hasher: digest, saltGenerator: generateSalt, kbSigner: sign, kbSignAlg: alg });
  let frame; // undefined: every disclosure
  if (a.disclose.length) {
    const { payload, byDigest } = decodeCompact(credential);
    frame = presentationFrame(payload, a.disclose.map(parsePointer), byDigest);
  }
  const kb = { payload: { aud: a.aud, nonce: a.nonce, iat: Math.floor(Date.now() / 1000) } };
  console.log(await sdjwt.present(credential, frame, { kb }));
}

async function rebind(argv) {
  const a = parseArgs(argv, { 'holder-key': 'single', aud: 'single', nonce: 'single' });
  need(a, 'holder-key', 'aud', 'nonce');
  const parts = readStdin().split('~');
  parts[parts.length - 1] = '';
  const withoutKb = parts.join('~');
  const { alg, sign } = await signerFor(readJson(a['holder-key']));
  const sdjwt = new SDJwtVcInstance({ hasher: digest, saltGenerator: generateSalt, kbSigner: sign, kbSignAlg: alg });
  const sdHash = b64url(digest(withoutKb, 'sha-256'));
  const kb = await sdjwt.createKBJwt(
    { payload: { aud: a.aud, nonce: a.nonce, iat: Math.floor(Date.now() / 1000) } }, sdHash);
  console.log(withoutKb + kb.encodeJwt());
}

// ---------------------------------------------------------------------------- verify

async function verify(argv) {
  const a = parseArgs(argv, { 'issuer-jwk': 'single', aud: 'single', nonce: 'single', typ: 'single' });
  need(a, 'issuer-jwk', 'aud', 'nonce');
  const presentation = readStdin();
  const sdjwt = new SDJwtVcInstance({
    hasher: digest,
    verifier: await verifierFor(readJson(a['issuer-jwk'])),
    // The KB verifier is handed the (processed) SD-JWT payload: take the holder key from cnf.
    kbVerifier: async (data, sig, payload) => {
      const jwk = payload?.cnf?.jwk;
      if (!jwk) throw new Error('no cnf.jwk in the credential');
      return (await verifierFor(jwk))(data, sig);
    },
  });
  const result = await sdjwt.verify(presentation, { keyBindingNonce: a.nonce });
  // Not checked by the library: the media type and the KB-JWT audience.
  const typ = a.typ ?? 'dc+sd-jwt';
  if (result.header?.typ !== typ) throw new Error(`typ is ${result.header?.typ}, expected ${typ}`);
  if (result.kb?.payload?.aud !== a.aud) throw new Error(`KB-JWT aud is ${result.kb?.payload?.aud}, expected ${a.aud}`);
  console.log(JSON.stringify(result.payload, null, 2));
}

const commands = { issue, present, verify, rebind };
const [cmd, ...rest] = process.argv.slice(2);
try {
  if (!commands[cmd]) throw new Error(`usage: js_peer.mjs ${Object.keys(commands).join('|')} ...`);
  await commands[cmd](rest);
} catch (e) {
  console.error(`js_peer ${cmd}: ${e?.name ?? 'Error'}: ${e?.message ?? e}`);
  process.exit(1);
}
