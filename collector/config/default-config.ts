/**
 * The configuration HomeStation runs on when no --config is given: what any
 * Debian-like host has. `homestation run --config FILE` replaces it whole.
 */
export const DEFAULT_CONFIG_SOURCE = '<embedded default config>';

export const DEFAULT_CONFIG_YAML = `# HomeStation embedded default configuration.
server:
  host: 0.0.0.0
  port: 9870
log:
  level: info
exporters:
  filesystem:
    # Every local disk filesystem from the mount table.
    - name: local
  backup:
    # Debian's own backups of the package database (dpkg-db-backup.timer; a new one only after changes).
    - name: debian-system
      interval: 15m
      files:
        sets:
          - name: dpkg-status
            glob: /var/backups/dpkg.status.*
            expected_interval: 30d
          - name: apt-extended-states
            glob: /var/backups/apt.extended_states.*
            expected_interval: 30d
    # Database dumps and other backup files dropped in the conventional place.
    - name: local-dumps
      interval: 15m
      files:
        sets:
          - name: var-backups-dumps
            glob: "/var/backups/**/*.{sql,sql.gz,dump,tar.gz,tgz,snap}"
            expected_interval: 1d
`;
