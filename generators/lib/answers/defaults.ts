/** Defaults derived from the destination: the project's name from its directory, the database's from the project. */

/** Default project name: the directory's name made into a valid Compose project name. */
export function projectNameFromDirectory(directoryName: string): string {
  const name = directoryName
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    // Keep it a valid image name too (see IMAGE_SAFE_PROJECT_NAME): "_" beside "-", or "___", becomes "-".
    .replace(/[_-]+/g, (run) => (/^(?:_{1,2}|-+)$/.test(run) ? run : '-'))
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 63)
    .replace(/[-_]+$/, '');
  return name === '' ? 'secure-stack' : name;
}

export function dbNameFromProjectName(projectName: string): string {
  const name = projectName.replace(/-/g, '_');
  return (/^[0-9]/.test(name) ? `db_${name}` : name).slice(0, 63);
}
