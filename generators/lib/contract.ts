/**
 * What the generator writes and `secure-stack verify` reads back from a repository and its running
 * stack: names, ports and paths both sides must agree on. The stack model builds from these and
 * verify checks against them; neither restates them.
 */
import { PACKAGE_NAME } from './package-info.js';

/** Yeoman's record of how a repository was generated; the answers live under GENERATOR_KEY. */
export const STORED_CONFIG_FILE = '.yo-rc.json';
export const GENERATOR_KEY = PACKAGE_NAME;

/** gunicorn's port inside the backend container. */
export const BACKEND_PORT = 8000;
/** nginx's ports inside its container: unprivileged, so it needs no NET_BIND_SERVICE. */
export const NGINX_HTTP_PORT = 8080;
export const NGINX_HTTPS_PORT = 8443;
/**
 * nginx's health listener, on the container's loopback only: no published port reaches it. An
 * allow/deny rule beside `return` would not do: `return` answers in the rewrite phase, before the
 * access phase runs.
 */
export const NGINX_HEALTH_PORT = 8081;
/** nginx's own liveness answer, on NGINX_HEALTH_PORT. */
export const NGINX_HEALTH_PATH = '/nginx-health';
/** The backend's health view: on NGINX_HEALTH_PORT, and published only with publicHealth. */
export const BACKEND_HEALTH_PATH = '/health/';

/** The database's owner (POSTGRES_USER): a superuser the application never logs in as. */
export const DB_OWNER_ROLE = 'db_owner';

/** Where a container sees its Docker secrets. */
export const SECRETS_MOUNT_DIRECTORY = '/run/secrets';
