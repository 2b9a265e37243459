/** GPUs: NVIDIA cards and Jetson boards, one set of metrics (exporter "gpu"). */
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { dashboard, instant, problemCount, query, table, timeseries } from './common.js';

export const gpuDashboard = () =>
  dashboard('HomeStation / GPUs', 'homestation-gpu', 'NVIDIA GPUs and Jetson boards: load, memory, heat, power, throttling, memory errors.')
    .withRow(new RowBuilder('Status'))
    .withPanel(problemCount('GPU readings stopped', 'homestation_exporter_up{exporter="gpu"} == 0', 'gpu exporters without a reading: nvidia-smi hung or failing, or tegrastats silent.'))
    .withPanel(problemCount('GPUs at 85 °C or more', 'homestation_gpu_temperature_celsius >= 85', 'GPUs at or over the GPUTooHot threshold.'))
    .withPanel(
      problemCount(
        'GPUs throttled by heat or power',
        'max without (reason) (homestation_gpu_clock_event_active{reason=~"hw_thermal_slowdown|sw_thermal_slowdown|hw_power_brake_slowdown|hw_slowdown"}) == 1',
        'GPUs whose clocks are held down for a thermal reason or by the power supply now.',
      ),
    )
    .withPanel(
      problemCount(
        'GPUs with memory errors',
        'homestation_gpu_ecc_errors_total{type="uncorrected"} > 0 or homestation_gpu_remapped_rows_failed == 1 or homestation_gpu_remapped_rows_pending == 1',
        'Uncorrectable ECC errors since the driver loaded, or a memory repair that waits for a reset or failed.',
      ),
    )
    .withRow(new RowBuilder('GPUs'))
    .withPanel(table('GPUs', 'Every GPU: model, driver and where it was read.', instant('homestation_gpu_info').refId('info')))
    .withPanel(timeseries('Utilization', 'percentunit', 'Share of time the GPU was busy.', query('homestation_gpu_utilization_ratio', '{{instance}} {{exporter_instance}} GPU {{gpu}}')))
    .withPanel(
      timeseries(
        'Memory used',
        'percentunit',
        'Share of each GPU memory in use (a Jetson shares its RAM: see below).',
        query('homestation_gpu_memory_used_bytes / homestation_gpu_memory_total_bytes', '{{instance}} {{exporter_instance}} GPU {{gpu}}'),
      ),
    )
    .withPanel(timeseries('Temperature', 'celsius', 'GPU core temperature (GPUTooHot at 85 °C).', query('homestation_gpu_temperature_celsius', '{{instance}} {{exporter_instance}} GPU {{gpu}}')))
    .withPanel(
      timeseries(
        'Power',
        'watt',
        'Power drawn, and the limit the driver enforces.',
        query('homestation_gpu_power_draw_watts', '{{exporter_instance}} GPU {{gpu}}'),
        query('homestation_gpu_power_limit_watts', '{{exporter_instance}} GPU {{gpu}} limit'),
      ),
    )
    .withPanel(
      timeseries(
        'Clock event reasons',
        'short',
        'Why the clocks are held down, per reason (1 while active); sw_power_cap under load is normal.',
        query('homestation_gpu_clock_event_active{reason!="gpu_idle"} == 1', '{{exporter_instance}} GPU {{gpu}} {{reason}}'),
      ),
    )
    .withPanel(
      timeseries(
        'Video encoder and decoder',
        'percentunit',
        'NVENC and NVDEC load (Frigate, Plex, Jellyfin, Immich).',
        query('homestation_gpu_codec_utilization_ratio', '{{exporter_instance}} GPU {{gpu}} {{codec}}'),
      ),
    )
    .withPanel(timeseries('GPU memory per process', 'bytes', 'With processes: true: GPU memory by process name.', query('homestation_gpu_process_memory_used_bytes', '{{exporter_instance}} GPU {{gpu}} {{process}}')))
    .withRow(new RowBuilder('Jetson boards'))
    .withPanel(
      timeseries(
        'RAM and swap used',
        'percentunit',
        'A Jetson shares its RAM between CPU and GPU.',
        query('homestation_gpu_board_memory_used_bytes / homestation_gpu_board_memory_total_bytes', '{{exporter_instance}} {{memory}}'),
      ),
    )
    .withPanel(timeseries('Thermal zones', 'celsius', 'Every thermal zone tegrastats prints (powered-off zones left out).', query('homestation_gpu_board_temperature_celsius', '{{exporter_instance}} {{sensor}}')))
    .withPanel(
      timeseries(
        'Power rails',
        'watt',
        'Power per rail now, and the budgets of JetsonRailOverBudget.',
        query('homestation_gpu_board_rail_power_watts', '{{exporter_instance}} {{rail}}'),
        query('homestation_gpu_board_rail_budget_watts', '{{exporter_instance}} {{rail}} budget'),
      ),
    )
    .withPanel(timeseries('CPU cores', 'percentunit', 'Load per CPU core (absent while a core is off).', query('homestation_gpu_board_cpu_utilization_ratio', '{{exporter_instance}} cpu{{cpu}}')));
