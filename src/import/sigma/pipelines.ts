/**
 * The built-in pipelines (pipeline.ts says what a pipeline does).
 *
 * `sysmon`: Sigma's generic Windows log sources as Sysmon events with the
 * field names Sysmon writes (the Sigma taxonomy's own names): each category
 * is its Sysmon event ID on the Sysmon channel, as pySigma's sysmon pipeline
 * maps them; Sysmon for Linux likewise for the categories it logs. A rule
 * whose logsource Sysmon does not log is reported, since without the
 * condition it would match unrelated events.
 *
 * `ecs`: Elastic Common Schema events. Sigma's process, network, file,
 * registry, DNS and web log fields are renamed to their ECS fields; product
 * and category become `host.os.type` and `event.category` / `event.type`
 * conditions (which hold for a string or for a list containing the value,
 * since ECS writes these as lists); Zeek's connection, HTTP and DNS fields
 * are renamed as Elastic's Zeek integration writes them; keyword searches
 * look in `message`.
 * Other log sources are kept, with their fields as named.
 */
import type { LogsourceEntry, Pipeline } from "./pipeline.js";

// ---------------------------------------------------------------- sysmon

const SYSMON_WINDOWS: Record<string, number[]> = {
  process_creation: [1],
  file_change: [2],
  network_connection: [3],
  sysmon_status: [4, 16],
  process_termination: [5],
  driver_load: [6],
  image_load: [7],
  create_remote_thread: [8],
  raw_access_thread: [9],
  process_access: [10],
  file_event: [11],
  registry_add: [12],
  registry_delete: [12],
  registry_set: [13],
  registry_rename: [14],
  registry_event: [12, 13, 14],
  create_stream_hash: [15],
  pipe_created: [17, 18],
  wmi_event: [19, 20, 21],
  dns_query: [22],
  file_delete: [23, 26],
  clipboard_capture: [24],
  process_tampering: [25],
  file_delete_detected: [26],
  file_block_executable: [27],
  file_block_shredding: [28],
  file_executable_detected: [29],
  sysmon_error: [255],
};

/** Sysmon for Linux logs these (its event IDs match the Windows ones). */
const SYSMON_LINUX: Record<string, number[]> = {
  process_creation: [1],
  network_connection: [3],
  process_termination: [5],
  raw_access_thread: [9],
  file_event: [11],
  file_delete: [23],
};

function eventIds(ids: number[]): string {
  const lits = ids.flatMap((n) => [String(n), JSON.stringify(String(n))]);
  return `(EventID ?? false) in [${lits.join(", ")}]`;
}

function channel(name: string): string {
  return `(Channel ?? false) == ${JSON.stringify(name)}`;
}

const WINDOWS_CHANNEL = "Microsoft-Windows-Sysmon/Operational";
const LINUX_CHANNEL = "Linux-Sysmon/Operational";

export const SYSMON: Pipeline = {
  name: "sysmon",
  description: "Sysmon events (Windows, and Sysmon for Linux), Sigma field names",
  unmappedLogsource: "reject",
  fields: {},
  logsources: [
    ...Object.entries(SYSMON_WINDOWS).map(([category, ids]): LogsourceEntry => ({
      product: "windows",
      category,
      condition: `${eventIds(ids)} and ${channel(WINDOWS_CHANNEL)}`,
    })),
    { product: "windows", service: "sysmon", condition: channel(WINDOWS_CHANNEL) },
    ...Object.entries(SYSMON_LINUX).map(([category, ids]): LogsourceEntry => ({
      product: "linux",
      category,
      condition: `${eventIds(ids)} and ${channel(LINUX_CHANNEL)}`,
    })),
  ],
};

// ---------------------------------------------------------------- ecs

/** `F` equals `v`, or `F` is a list holding `v` (ECS writes event.category and event.type as lists). */
function holds(field: string, v: string): string {
  const lit = JSON.stringify(v);
  return `((${field} ?? false) == ${lit} or type(${field} ?? 0) == "list" and ${field} contains ${lit})`;
}

const ECS_CATEGORIES: Record<string, [category: string, type?: string]> = {
  process_creation: ["process", "start"],
  process_termination: ["process", "end"],
  network_connection: ["network"],
  firewall: ["network"],
  dns_query: ["network"],
  dns: ["network"],
  file_event: ["file", "creation"],
  file_change: ["file", "change"],
  file_rename: ["file", "change"],
  file_delete: ["file", "deletion"],
  file_access: ["file", "access"],
  image_load: ["library"],
  driver_load: ["driver"],
  registry_add: ["registry"],
  registry_delete: ["registry"],
  registry_set: ["registry"],
  registry_rename: ["registry"],
  registry_event: ["registry"],
  proxy: ["web"],
  webserver: ["web"],
  authentication: ["authentication"],
  antivirus: ["malware"],
};

const ECS_FIELDS: Record<string, string> = {
  // processes
  Image: "process.executable",
  CommandLine: "process.command_line",
  OriginalFileName: "process.pe.original_file_name",
  Product: "process.pe.product",
  Company: "process.pe.company",
  Description: "process.pe.description",
  FileVersion: "process.pe.file_version",
  CurrentDirectory: "process.working_directory",
  ProcessId: "process.pid",
  ProcessGuid: "process.entity_id",
  ParentImage: "process.parent.executable",
  ParentCommandLine: "process.parent.command_line",
  ParentProcessId: "process.parent.pid",
  ParentProcessGuid: "process.parent.entity_id",
  User: "user.name",
  IntegrityLevel: "winlog.event_data.IntegrityLevel",
  LogonId: "winlog.event_data.LogonId",
  Hashes: "winlog.event_data.Hashes",
  // network
  DestinationIp: "destination.ip",
  DestinationPort: "destination.port",
  DestinationHostname: "destination.domain",
  SourceIp: "source.ip",
  SourcePort: "source.port",
  SourceHostname: "source.domain",
  Protocol: "network.transport",
  QueryName: "dns.question.name",
  // files, modules, registry
  TargetFilename: "file.path",
  ImageLoaded: "dll.path",
  TargetObject: "registry.path",
  Details: "registry.data.strings",
  // web proxy and web server logs (W3C extended field names)
  "c-uri": "url.original",
  "cs-uri": "url.original",
  "c-uri-query": "url.query",
  "cs-uri-query": "url.query",
  "c-uri-stem": "url.path",
  "cs-uri-stem": "url.path",
  "c-uri-extension": "url.extension",
  "cs-method": "http.request.method",
  "c-useragent": "user_agent.original",
  "cs-user-agent": "user_agent.original",
  "cs-host": "url.domain",
  "cs-referer": "http.request.referrer",
  "cs-version": "http.version",
  "sc-status": "http.response.status_code",
  "cs-bytes": "http.request.bytes",
  "sc-bytes": "http.response.bytes",
  "c-ip": "source.ip",
  "s-ip": "destination.ip",
  "r-dns": "destination.domain",
};

/** Zeek's own field names as Elastic's Zeek integration writes them in ECS. */
const ECS_ZEEK: LogsourceEntry[] = [
  {
    product: "zeek",
    fields: { "id.orig_h": ["source.ip"], "id.orig_p": ["source.port"], "id.resp_h": ["destination.ip"], "id.resp_p": ["destination.port"] },
  },
  {
    product: "zeek",
    service: "http",
    fields: {
      host: ["url.domain"],
      uri: ["url.original"],
      method: ["http.request.method"],
      user_agent: ["user_agent.original"],
      status_code: ["http.response.status_code"],
    },
  },
  { product: "zeek", service: "dns", fields: { query: ["dns.question.name"], qtype_name: ["dns.question.type"] } },
];

export const ECS: Pipeline = {
  name: "ecs",
  description: "Elastic Common Schema events",
  keywords: "message",
  unmappedLogsource: "keep",
  fields: Object.fromEntries(Object.entries(ECS_FIELDS).map(([k, v]) => [k, [v]])),
  logsources: [
    ...["windows", "linux", "macos"].map((product): LogsourceEntry => ({ product, condition: `(host.os.type ?? false) == ${JSON.stringify(product)}` })),
    ...Object.entries(ECS_CATEGORIES).map(([category, [cat, type]]): LogsourceEntry => ({
      category,
      condition: type === undefined ? holds("event.category", cat) : `${holds("event.category", cat)} and ${holds("event.type", type)}`,
    })),
    ...ECS_ZEEK,
  ],
};

export const BUILTIN_PIPELINES: Readonly<Record<string, Pipeline>> = { sysmon: SYSMON, ecs: ECS };
