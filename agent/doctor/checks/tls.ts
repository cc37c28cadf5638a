import net from "node:net";
import tls from "node:tls";
import type { DoctorCheck } from "../../../shared/schemas/doctor";
import { isLoopback } from "../../loopback";
import { codeOf, fail, pass, reasonOf, skip, warn } from "../report";

const TIMEOUT_MS = 5_000;
/** A certificate this close to its end is worth a warning: renewals are usually due a month ahead. */
const EXPIRY_WARNING_DAYS = 14;

const TRUST_A_PRIVATE_CA =
  "if the server uses your own CA, give kai-agent its certificate: NODE_EXTRA_CA_CERTS=/path/to/ca.pem " +
  "in kai-agent's environment; for the service, export NODE_EXTRA_CA_CERTS and run kai-agent service install again";

const namesOf = (cert: tls.PeerCertificate | undefined) => cert?.subjectaltname ?? cert?.subject?.CN ?? "other hosts";

/** Why a certificate was refused, in words, with what to do: Node's verify codes are not for people. */
function explain(code: string, host: string, cert: tls.PeerCertificate | undefined): { detail: string; fix: string } {
  switch (code) {
    case "CERT_HAS_EXPIRED":
      return {
        detail: `the server's certificate expired (valid until ${cert?.valid_to ?? "unknown"})`,
        fix: "the server's operator must renew its certificate; if it looks current, check this machine's clock",
      };
    case "CERT_NOT_YET_VALID":
      return {
        detail: `the server's certificate is not valid yet (from ${cert?.valid_from ?? "unknown"})`,
        fix: "check this machine's clock (see the Clock line), or wait for the new certificate's start",
      };
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
    case "SELF_SIGNED_CERT_IN_CHAIN":
      return {
        detail: "the server's certificate is self-signed, so Node cannot verify it",
        fix: `use a certificate from a public CA (e.g. Let's Encrypt); ${TRUST_A_PRIVATE_CA}`,
      };
    case "ERR_TLS_CERT_ALTNAME_INVALID":
      return {
        detail: `the certificate does not name ${host} (it names ${namesOf(cert)})`,
        fix: `use the address the certificate is for (kai-agent login --server URL), or get a certificate for ${host}`,
      };
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
    case "UNABLE_TO_GET_ISSUER_CERT":
      return {
        detail: "the certificate's issuer is not trusted here (an incomplete chain or a private CA)",
        fix: `the server should send its full certificate chain; ${TRUST_A_PRIVATE_CA}`,
      };
    default:
      return {
        detail: `the server's certificate was refused: ${code}`,
        fix: `check the server's certificate (openssl s_client -connect ${host}:443); ${TRUST_A_PRIVATE_CA}`,
      };
  }
}

/**
 * The server's TLS, as Node (and so kai-agent's WebSocket) sees it: the handshake is made
 * without refusing, so an invalid certificate can be described (expired, self-signed, for
 * another name) rather than only reported as a failed connection.
 */
export async function checkTls(server: URL): Promise<DoctorCheck> {
  const host = server.hostname;
  if (server.protocol === "http:") {
    if (isLoopback(host)) return pass("tls", `plain http to ${host}, a loopback address: nothing leaves this machine`);
    return warn(
      "tls",
      `plain http to ${host}: this host's agent token and everything the agent sends travel unencrypted`,
      "use the server's https:// address: kai-agent login --server https://…",
    );
  }
  const bare = host.replace(/^\[|\]$/g, "");
  const port = Number(server.port || 443);
  let socket: tls.TLSSocket | undefined;
  try {
    socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const opened = tls.connect({
        host: bare,
        port,
        ...(net.isIP(bare) ? {} : { servername: bare }),
        rejectUnauthorized: false,
        timeout: TIMEOUT_MS,
      });
      opened.once("secureConnect", () => resolve(opened));
      opened.once("timeout", () => {
        opened.destroy();
        reject(new Error(`no TLS handshake within ${TIMEOUT_MS / 1000} s`));
      });
      opened.once("error", reject);
    });
  } catch (error) {
    const code = codeOf(error);
    if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EAI_AGAIN")
      return skip("tls", "no connection to check it on (see the server line)");
    return fail(
      "tls",
      `the TLS handshake with ${host}:${port} failed: ${reasonOf(error)}`,
      "check that the address is Kai's https:// address and that no proxy intercepts the connection",
    );
  }
  try {
    const cert = socket.getPeerCertificate();
    if (!socket.authorized) {
      const { detail, fix } = explain(String(socket.authorizationError), host, cert);
      return fail("tls", detail, fix);
    }
    const until = new Date(cert.valid_to);
    const daysLeft = Math.floor((until.getTime() - Date.now()) / 86_400_000);
    const issuer = cert.issuer?.O ?? cert.issuer?.CN ?? "its issuer";
    const detail = `certificate for ${host} verified, issued by ${issuer}, valid until ${cert.valid_to}`;
    if (daysLeft < EXPIRY_WARNING_DAYS)
      return warn("tls", `${detail} (${daysLeft} days left)`, "the server's operator should renew its certificate");
    return pass("tls", detail);
  } finally {
    socket.destroy();
  }
}
