/**
 * What lets a container take over its host, shared by the compose and Kubernetes checks: the container runtime's
 * socket mounted in, the capabilities that amount to root on the host, and the kernel confinement turned off.
 */

/**
 * Host paths whose mount hands over the container runtime: its socket, or the folder that holds it. A read-only
 * mount does not help: `:ro` stops writes to the socket file, not requests through it.
 */
const RUNTIME_SOCKETS = ['docker.sock', 'containerd.sock', 'podman.sock', 'crio.sock', 'cri-dockerd.sock'];
const SOCKET_FOLDERS = new Set(['/var/run', '/run', '/var/run/docker', '/run/docker', '/run/containerd']);

function withoutTrailingSlash(path: string): string {
  let end = path.length;
  while (end > 1 && path[end - 1] === '/') end -= 1;
  return path.slice(0, end);
}

/** The runtime socket a host path mounts, or undefined. */
export function runtimeSocket(hostPath: string): string | undefined {
  const path = withoutTrailingSlash(hostPath.trim());
  if (!path.startsWith('/') && !path.startsWith('$')) return undefined;
  const base = path.slice(path.lastIndexOf('/') + 1);
  if (RUNTIME_SOCKETS.includes(base)) return path;
  return SOCKET_FOLDERS.has(path) ? `${path} (which holds docker.sock)` : undefined;
}

/**
 * Capabilities that amount to the host's root: ALL; SYS_ADMIN (mount, namespaces, cgroup release_agent); SYS_PTRACE
 * (inject into other processes, with host PID); SYS_MODULE (load kernel modules); DAC_READ_SEARCH (open_by_handle_at,
 * the "shocker" escape); SYS_RAWIO (raw device and I/O port access); SYS_BOOT (reboot, kexec); BPF (load kernel
 * programs). NET_ADMIN and NET_RAW act on the container's own network namespace only and are left out (VPN and
 * packet tools need them); with `network_mode: host` the host namespace check already reports the service.
 */
export const ESCAPE_CAPABILITIES = new Set([
  'ALL',
  'SYS_ADMIN',
  'SYS_PTRACE',
  'SYS_MODULE',
  'DAC_READ_SEARCH',
  'SYS_RAWIO',
  'SYS_BOOT',
  'BPF',
]);

/** `cap_add` entries that are escape-grade, normalised (`CAP_SYS_ADMIN` and `sys_admin` are SYS_ADMIN). */
export function escapeCapabilities(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  const found: string[] = [];
  for (const item of list) {
    let name = String(item).trim().toUpperCase();
    if (name.startsWith('CAP_')) name = name.slice(4);
    if (ESCAPE_CAPABILITIES.has(name) && !found.includes(name)) found.push(name);
  }
  return found;
}

/**
 * A compose `security_opt` entry that turns kernel confinement off: `seccomp:unconfined` / `seccomp=unconfined`,
 * `apparmor:unconfined`, and SELinux's `label:disable` (the same class: the policy that stands between a container
 * root and the host is gone).
 */
export function unconfinedOption(option: unknown): string | undefined {
  const text = String(option).trim().toLowerCase();
  const sep = text.search(/[:=]/);
  if (sep < 0) return undefined;
  const key = text.slice(0, sep).trim();
  const value = text.slice(sep + 1).trim();
  if ((key === 'seccomp' || key === 'apparmor') && value === 'unconfined') return `${key}:unconfined`;
  if (key === 'label' && value === 'disable') return 'label:disable';
  if (key === 'systempaths' && value === 'unconfined') return 'systempaths=unconfined';
  return undefined;
}

/** Images that exist to put an allowlist in front of the Docker socket: mounting it is their job. */
export function isSocketProxyImage(image: string): boolean {
  const name = image.toLowerCase();
  return name.includes('socket-proxy') || name.includes('docker-proxy') || name.includes('dockerproxy');
}

/** A truthy YAML scalar as compose and Kubernetes read it (`true`, `"true"`). */
export function isTrue(value: unknown): boolean {
  return value === true || (typeof value === 'string' && value.trim().toLowerCase() === 'true');
}
