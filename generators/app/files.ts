/**
 * What renders where, and who owns it. The generator owns its files and re-renders them on every
 * run (user edits are merged in); a user-owned file is written once, when missing, and never again.
 */
import type { TemplateFile } from '../lib/render.js';
import { NGINX_CONFIG, POSTGRES_ROLES_SCRIPT, STACK_FILE, SWARM_NGINX_CONFIG } from '../lib/stack/repository-paths.js';
import type { StackModel } from '../lib/stack/stack-model.js';

const generated = (template: string, destination = template): TemplateFile => ({
  template,
  destination,
  owner: 'generator',
});
const userOwned = (template: string, destination = template): TemplateFile => ({
  template,
  destination,
  owner: 'user',
});
const withSwarm = (model: StackModel) => model.swarm !== null;

export const STACK_FILES: readonly TemplateFile[] = [
  generated('compose.yaml'),
  generated(NGINX_CONFIG),
  // The Docker Swarm target, with --swarm: its own stack file, and nginx.conf rendered again with
  // the backend resolved per request.
  { ...generated(STACK_FILE), when: withSwarm },
  {
    ...generated(NGINX_CONFIG, SWARM_NGINX_CONFIG),
    when: withSwarm,
    locals: (model) => ({ upstream: model.swarm!.nginxUpstream }),
  },
  generated(POSTGRES_ROLES_SCRIPT),
  generated('_gitignore', '.gitignore'),
  generated('renovate.json'),
  generated('README.md'),
  generated('secrets/README.md'),
  generated('backend/Dockerfile'),
  generated('backend/_dockerignore', 'backend/.dockerignore'),
  generated('backend/requirements.txt'),
  generated('backend/serve.sh'),
  generated('backend/manage.py'),
  generated('backend/config/__init__.py'),
  generated('backend/config/settings.py'),
  generated('backend/config/secrets.py'),
  generated('backend/config/routes.py'),
  generated('backend/config/urls.py'),
  generated('backend/config/health.py'),
  generated('backend/config/wsgi.py'),
  // Many repositories have a .gitattributes already: theirs is kept as it is, never merged into.
  userOwned('_gitattributes', '.gitattributes'),
  userOwned('backend/app/__init__.py'),
  userOwned('backend/app/views.py'),
];
