/** Storage: local filesystems filling up or turning read-only. */
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { dashboard, instant, problemCount, query, stat, table, timeseries } from './common.js';

export const storage = () =>
  dashboard('HomeStation / Storage', 'homestation-storage', 'Local disks and NAS shares: mounted, answering, space, trend, inodes, read-only remounts.')
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
    .withPanel(timeseries('Free inodes', 'short', 'Free inodes (0 total = no fixed inode count).', query('homestation_filesystem_files_free', '{{instance}} {{mountpoint}}')))
    .withRow(new RowBuilder('NAS shares and tiers'))
    .withPanel(problemCount('Shares not mounted', 'homestation_nas_mount_present == 0', 'Configured mounts that are not mounted.'))
    .withPanel(problemCount('Shares not answering', 'homestation_nas_mount_responsive == 0', 'Mounts whose statfs did not answer in time: a dead server or network.'))
    .withPanel(problemCount('Shares refusing writes', 'homestation_nas_mount_writable == 0', 'Mounted read-only, or the write test failed.'))
    .withPanel(problemCount('Stuck probes', 'homestation_nas_stuck_probes > 0', 'Probe processes still waiting on a hung mount (at most one per mount).'))
    .withPanel(
      timeseries(
        'Tier used',
        'percentunit',
        'Used share of each configured mount or tier (the last-known value while it does not answer).',
        query('1 - homestation_nas_mount_avail_bytes / homestation_nas_mount_size_bytes', '{{instance}} {{tier}} {{mountpoint}}'),
      ),
    )
    .withPanel(
      timeseries(
        'Tier days until full',
        's',
        'At the rate of the last day; only tiers that are filling up.',
        query('homestation_nas_mount_avail_bytes / (-deriv(homestation_nas_mount_avail_bytes[1d]) > 0)', '{{instance}} {{tier}}'),
      ),
    )
    .withPanel(timeseries('statfs time', 's', 'How long each mount took to answer statfs.', query('homestation_nas_mount_probe_seconds', '{{instance}} {{mountpoint}}')))
    .withRow(new RowBuilder('Disks'))
    .withPanel(problemCount('Disks failing SMART', 'homestation_nas_disk_smart_passed == 0', 'Disks whose own SMART assessment says FAILING.'))
    .withPanel(problemCount('Disks at risk', 'homestation_nas_disk_at_risk == 1', 'Disks with bad sectors, media errors, a critical warning or a failed self-test (passing SMART or not).'))
    .withPanel(problemCount('Disks asleep', 'homestation_nas_disk_standby == 1', 'Disks that were asleep at the last poll and left asleep.'))
    .withPanel(table('Disks', 'Every disk smartctl reads: model, serial, firmware.', instant('homestation_nas_disk_info').refId('info')))
    .withPanel(timeseries('Disk temperature', 'celsius', 'Disk temperatures (NASDiskTooHot at 60 °C).', query('homestation_nas_disk_temperature_celsius', '{{instance}} {{disk}}')))
    .withPanel(
      timeseries(
        'Bad sectors',
        'short',
        'Reallocated and pending sectors: a count that grows predicts a failure.',
        query('homestation_nas_disk_reallocated_sectors', '{{instance}} {{disk}} reallocated'),
        query('homestation_nas_disk_pending_sectors', '{{instance}} {{disk}} pending'),
      ),
    )
    .withRow(new RowBuilder('ZFS pools'))
    .withPanel(problemCount('Pools not ONLINE', 'homestation_nas_zpool_state{state="ONLINE"} == 0', 'ZFS pools DEGRADED, FAULTED, UNAVAIL or SUSPENDED.'))
    .withPanel(problemCount('Pools with data errors', 'homestation_nas_zpool_data_errors > 0', 'Pools with permanent data errors (corruption).'))
    .withPanel(problemCount('Pools scrub overdue', '(time() - homestation_nas_zpool_last_scrub_timestamp_seconds > 35 * 86400) or homestation_nas_zpool_scrubbed == 0', 'Pools not scrubbed for 35 days, or never.'))
    .withPanel(timeseries('Pool used', 'percentunit', 'Allocated share of each pool.', query('homestation_nas_zpool_allocated_bytes / homestation_nas_zpool_size_bytes', '{{instance}} {{pool}}')))
    .withPanel(timeseries('Scrub and resilver progress', 'percentunit', 'Progress of the running scrub or resilver.', query('homestation_nas_zpool_scan_progress_ratio', '{{instance}} {{pool}}')))
    .withRow(new RowBuilder('Synology DSM'))
    .withPanel(problemCount('DSM volumes, pools and disks not normal', 'homestation_nas_dsm_volume_healthy == 0 or homestation_nas_dsm_pool_healthy == 0 or homestation_nas_dsm_disk_healthy == 0', "What the Synology's Storage Manager says is not normal."))
    .withPanel(table('DSM disks', 'Every disk DSM lists, with its status and SMART status.', instant('homestation_nas_dsm_disk_info').refId('disks')))
    .withPanel(timeseries('DSM volume used', 'percentunit', 'Used share of each DSM volume.', query('homestation_nas_dsm_volume_used_bytes / homestation_nas_dsm_volume_size_bytes', '{{instance}} {{volume}}')))
    .withRow(new RowBuilder('md RAID'))
    .withPanel(problemCount('Arrays degraded or inactive', 'homestation_nas_md_degraded_disks > 0 or homestation_nas_md_active == 0', 'md arrays missing members, or not running.'))
    .withPanel(problemCount('Arrays rebuilding', 'max without (action) (homestation_nas_md_sync_active{action=~"recovery|reshape"}) == 1', 'md arrays recovering onto a member or reshaping.'))
    .withPanel(table('md arrays', 'Members of each md array by state.', instant('homestation_nas_md_disks').refId('disks')))
    .withPanel(timeseries('Sync progress', 'percentunit', 'Progress of the resync, recovery, check or reshape running.', query('homestation_nas_md_sync_progress_ratio', '{{instance}} {{array}}')));
