/**
 * The enrolment display: the otpauth:// Key URI authenticator apps import
 * (Google Authenticator's "Key Uri Format") and its QR code for a terminal.
 *
 * Choices: the URI always carries algorithm, digits and period (apps that
 * assume defaults agree, apps that read them cannot be misled); issuer and
 * account are percent-encoded ('/', '?', '&', '#' stay inside the label);
 * the format splits the label at the first colon, literal or
 * percent-encoded, so an issuer with a ':' is refused (one in the account
 * comes after the split and stays the account's); the secret is unpadded
 * RFC 4648 base32.
 */
import { ScureBase32Plugin } from "otplib";
import QRCode from "qrcode";
import type { TotpAlgorithm } from "./totp.js";

const base32 = new ScureBase32Plugin();

/** Unpadded RFC 4648 base32 of `bytes` (what authenticator apps expect). */
export function toBase32(bytes: Uint8Array): string {
  return base32.encode(bytes, { padding: false });
}

export interface OtpauthUriOptions {
  readonly issuer: string;
  readonly account: string;
  readonly secret: Uint8Array;
  readonly algorithm: TotpAlgorithm;
  readonly digits: number;
  readonly period: number;
}

/**
 * `otpauth://totp/ISSUER:ACCOUNT?secret=...&issuer=...&algorithm=...&digits=...&period=...`.
 * Throws RangeError for an empty issuer or one holding a ':' (an app would
 * show "Acme:root" as issuer "Acme" and account "root:alice").
 */
export function otpauthUri(options: OtpauthUriOptions): string {
  if (options.issuer === "" || options.issuer.includes(":")) throw new RangeError("an otpauth issuer is not empty and holds no ':'");
  const issuer = encodeURIComponent(options.issuer);
  const label = `${issuer}:${encodeURIComponent(options.account)}`;
  const query = [
    `secret=${toBase32(options.secret)}`,
    `issuer=${issuer}`,
    `algorithm=${options.algorithm.toUpperCase()}`,
    `digits=${options.digits}`,
    `period=${options.period}`,
  ].join("&");
  return `otpauth://totp/${label}?${query}`;
}

/**
 * The URI as a QR code drawn with block characters, for a terminal: on a white
 * background set with ANSI colours (scannable whatever the terminal's colours),
 * or with `color: false` in block characters alone, dark modules drawn (for a
 * file, a pipe, NO_COLOR).
 */
export async function terminalQr(uri: string, options: { color?: boolean } = {}): Promise<string> {
  return options.color === false ? QRCode.toString(uri, { type: "utf8" }) : QRCode.toString(uri, { type: "terminal", small: true });
}
