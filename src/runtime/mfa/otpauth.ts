/**
 * The enrolment display: the otpauth:// Key URI authenticator apps import
 * (Google Authenticator's "Key Uri Format") and its QR code for a terminal.
 *
 * Choices: the URI always carries algorithm, digits and period (apps that
 * assume defaults agree, apps that read them cannot be misled); issuer and
 * account are percent-encoded, so a ':' in either cannot shift the
 * issuer/account split; the secret is unpadded RFC 4648 base32.
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

/** `otpauth://totp/ISSUER:ACCOUNT?secret=...&issuer=...&algorithm=...&digits=...&period=...` */
export function otpauthUri(options: OtpauthUriOptions): string {
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

/** The URI as a QR code drawn with block characters, for a terminal. */
export async function terminalQr(uri: string): Promise<string> {
  return QRCode.toString(uri, { type: "terminal", small: true });
}
