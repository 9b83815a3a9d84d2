/**
 * TLS and mutual TLS with throwaway certificates made by openssl for this
 * run (a CA, a server certificate for 127.0.0.1, a client certificate, and
 * a stranger's CA and client). Skipped, saying why, where openssl is missing.
 */
import t from "tap";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { accessInput, call, policyDir, POLICY, start, tempDir, testConfig } from "./harness.js";
import { startServer } from "../../src/index.js";
import { LogCapture } from "./harness.js";

function haveOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

interface Pki {
  dir: string;
  ca: Buffer;
  serverCert: string;
  serverKey: string;
  caFile: string;
  client: { cert: Buffer; key: Buffer };
  stranger: { cert: Buffer; key: Buffer };
}

function makePki(dir: string): Pki {
  const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  const ca = (name: string) => ssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "2", "-subj", `/CN=${name}`);
  const leaf = (name: string, caName: string, ext: string) => {
    ssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
    writeFileSync(path.join(dir, `${name}.ext`), ext);
    ssl("x509", "-req", "-in", `${name}.csr`, "-CA", `${caName}.pem`, "-CAkey", `${caName}.key`, "-CAcreateserial", "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`);
  };
  ca("test-ca");
  ca("stranger-ca");
  leaf("server", "test-ca", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  leaf("client", "test-ca", "extendedKeyUsage=clientAuth\n");
  leaf("stranger", "stranger-ca", "extendedKeyUsage=clientAuth\n");
  const read = (f: string) => readFileSync(path.join(dir, f));
  return {
    dir,
    ca: read("test-ca.pem"),
    caFile: path.join(dir, "test-ca.pem"),
    serverCert: path.join(dir, "server.pem"),
    serverKey: path.join(dir, "server.key"),
    client: { cert: read("client.pem"), key: read("client.key") },
    stranger: { cert: read("stranger.pem"), key: read("stranger.key") },
  };
}

const skip = haveOpenssl() ? false : "openssl is not installed on this machine";

t.test("HTTPS with a server certificate", { skip }, async (t) => {
  const pki = makePki(tempDir(t, "sp-pki-"));
  const dir = policyDir(t, { "a.policy": POLICY });
  const { url } = await start(t, [dir], { config: testConfig((c) => (c.tls = { cert: pki.serverCert, key: pki.serverKey })) });
  t.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const r = await call(url, "/v1/evaluate", { body: accessInput("ann", ["reader"]), ca: pki.ca });
  t.equal(r.json.decision, "allow");
  t.equal(r.headers["strict-transport-security"], "max-age=31536000");
  await t.rejects(call(url, "/healthz"), { code: /SELF_SIGNED|UNABLE_TO_VERIFY|DEPTH_ZERO/ }, "a client that does not trust the CA refuses");
  await t.rejects(call(url.replace("https:", "http:"), "/healthz"), "plain HTTP is not answered");
});

t.test("mutual TLS: only clients with a certificate from the configured CA", { skip }, async (t) => {
  const pki = makePki(tempDir(t, "sp-pki-"));
  const dir = policyDir(t, { "a.policy": POLICY });
  const { url } = await start(t, [dir], { config: testConfig((c) => (c.tls = { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.caFile })) });
  const good = await call(url, "/v1/evaluate", { body: accessInput("ann", ["reader"]), ca: pki.ca, ...pki.client });
  t.equal(good.status, 200);
  t.equal(good.json.decision, "allow");
  await t.rejects(call(url, "/healthz", { ca: pki.ca }), "no client certificate: refused in the handshake");
  await t.rejects(call(url, "/healthz", { ca: pki.ca, ...pki.stranger }), "a certificate from another CA: refused");
  t.equal((await call(url, "/healthz", { ca: pki.ca, ...pki.client })).status, 200, "still serving");
});

t.test("unusable TLS files are refused before listening", { skip }, async (t) => {
  const pki = makePki(tempDir(t, "sp-pki-"));
  const dir = policyDir(t, { "a.policy": POLICY });
  const junk = path.join(pki.dir, "junk.pem");
  writeFileSync(junk, "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n");
  const cases: [Parameters<typeof testConfig>[0], RegExp][] = [
    [(c) => (c.tls = { cert: path.join(pki.dir, "missing.pem"), key: pki.serverKey }), /tls\.cert: cannot read .*missing\.pem: no such file or directory/],
    [(c) => (c.tls = { cert: pki.serverCert, key: path.join(pki.dir, "missing.key") }), /tls\.key: cannot read/],
    [(c) => (c.tls = { cert: junk, key: pki.serverKey }), /tls: the certificate, key or CA is not valid/],
    [(c) => (c.tls = { cert: pki.serverCert, key: path.join(pki.dir, "client.key") }), /tls: the certificate, key or CA is not valid/],
  ];
  for (const [patch, message] of cases) {
    await t.rejects(startServer({ paths: [dir], config: testConfig(patch), logStream: new LogCapture() }), { name: "ServerConfigError", message });
  }
});
