/**
 * The configuration HomeStation runs on when no --config is given: what any
 * Debian-like host has. `homestation run --config FILE` replaces it whole.
 */
export const DEFAULT_CONFIG_SOURCE = '<embedded default config>';

export const DEFAULT_CONFIG_YAML = `# HomeStation embedded default configuration.
server:
  host: \${HOMESTATION_HOST:-0.0.0.0}
  port: \${HOMESTATION_PORT:-9870}
log:
  level: info
exporters:
  filesystem:
    # Every local disk filesystem from the mount table.
    - name: local
  backup:
    # Debian's own backups of the package database (dpkg-db-backup.timer). dpkg
    # rewrites them only when packages change, so their age means nothing (no
    # expected interval), and a container or a new install may have none yet.
    - name: debian-system
      interval: 15m
      files:
        sets:
          - name: dpkg-status
            glob: /var/backups/dpkg.status.*
            expected_interval: 0s
            optional: true
          - name: apt-extended-states
            glob: /var/backups/apt.extended_states.*
            expected_interval: 0s
            optional: true
    # Database dumps and other backup files, if any are dropped in the conventional
    # place: watched (a day's freshness) once the first one appears.
    - name: local-dumps
      interval: 15m
      files:
        sets:
          - name: var-backups-dumps
            glob: "/var/backups/**/*.{sql,sql.gz,dump,tar.gz,tgz,snap}"
            expected_interval: 1d
            optional: true
`;
