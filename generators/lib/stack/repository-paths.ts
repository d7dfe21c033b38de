/** Where generated files that other generated files point at live in the repository. */

/** nginx's configuration for Compose, bind-mounted read-only over the image's. */
export const NGINX_CONFIG = 'nginx/nginx.conf';
/** The same template rendered for Docker Swarm (the backend resolved per request). */
export const SWARM_NGINX_CONFIG = 'nginx/nginx.swarm.conf';
/** The Swarm target, for `docker stack deploy -c stack.yaml <projectName>`. */
export const STACK_FILE = 'stack.yaml';

/** The script that gives the backend its own, unprivileged PostgreSQL role (run at first start). */
export const POSTGRES_ROLES_SCRIPT = 'postgres/app-role.sql';
/** Where the image runs it: once, when the data directory is first created. */
export const POSTGRES_ROLES_SCRIPT_MOUNT = '/docker-entrypoint-initdb.d/10-app-role.sql';
