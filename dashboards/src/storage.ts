/** Storage: local filesystems filling up or turning read-only. */
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { dashboard, instant, problemCount, query, stat, table, timeseries } from './common.js';

export const storage = () =>
  dashboard('HomeStation / Storage', 'homestation-storage', 'Local disks: space, trend, inodes, read-only remounts.')
    .withRow(new RowBuilder('Status'))
    .withPanel(problemCount('Filesystems over 90%', '1 - homestation_filesystem_avail_bytes / homestation_filesystem_size_bytes > 0.9', 'Local filesystems with less than 10% available.'))
    .withPanel(stat('Read-only filesystems', 'sum(homestation_filesystem_readonly) or vector(0)', 'short', [{ value: null, color: 'blue' }], 'Mounted read-only, on purpose or after errors.'))
    .withRow(new RowBuilder('Filesystems'))
    .withPanel(
      table(
        'Filesystems',
        'Size and available space of every local filesystem.',
        instant('homestation_filesystem_size_bytes').refId('size'),
        instant('homestation_filesystem_avail_bytes').refId('avail'),
      ),
    )
    .withPanel(timeseries('Used', 'percentunit', 'Used share of each filesystem.', query('1 - homestation_filesystem_avail_bytes / homestation_filesystem_size_bytes', '{{instance}} {{mountpoint}}')))
    .withPanel(
      timeseries(
        'Days until full',
        's',
        'At the rate of the last 6 hours; only filesystems that are filling up.',
        query(
          'homestation_filesystem_avail_bytes / (-deriv(homestation_filesystem_avail_bytes[6h]) > 0)',
          '{{instance}} {{mountpoint}}',
        ),
      ),
    )
    .withPanel(timeseries('Free inodes', 'short', 'Free inodes (0 total = no fixed inode count).', query('homestation_filesystem_files_free', '{{instance}} {{mountpoint}}')));
