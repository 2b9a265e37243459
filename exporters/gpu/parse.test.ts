/** The two parsers on the shapes that differ between boards, drivers and releases. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chooseFields, parseComputeApps, parseHelpQueryGpu, parseQueryGpu } from './parse/nvidia-smi.js';
import { parseNvidiaSmiXml } from './parse/nvidia-xml.js';
import { parseTegrastatsLine } from './parse/tegrastats.js';
import { migSamples, nvidiaSamples, tegraSamples } from './samples.js';
import { M } from './metrics.js';

const fixture = (p: string) => readFileSync(new URL(`./fixtures/${p}`, import.meta.url), 'utf8');
const value = (samples: { metric: string; labels?: Record<string, string>; value: number }[], metric: string, labels: Record<string, string> = {}) =>
  samples.find((s) => s.metric === metric && Object.entries(labels).every(([k, v]) => s.labels?.[k] === v))?.value;

describe('tegrastats', () => {
  it('agrees with an independent exporter on a Xavier NX JetPack 5.1.2 line (waggle-sensor/jetson-exporter expected output)', () => {
    const line = fixture('tegrastats/waggle-jetson-exporter__xaviernx-jp4.1.1_xaviernx-jp5.1.2_nano-jp4.6.1.txt').split('\n').find((l) => l.startsWith('07-09-2024'))!;
    const expected = new Map(
      fixture('tegrastats/waggle-jetson-exporter__expected-metrics_nx_jp512.prom')
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => {
          const i = l.lastIndexOf(' ');
          return [l.slice(0, i), Number(l.slice(i + 1))] as const;
        }),
    );
    const s = tegraSamples(parseTegrastatsLine(line));
    expect(value(s, M.boardMemoryUsed, { memory: 'ram' })).toBe(expected.get('tegra_ram_used_bytes'));
    expect(value(s, M.boardMemoryTotal, { memory: 'swap' })).toBe(expected.get('tegra_swap_total_bytes'));
    expect(value(s, M.clock, { clock: 'graphics' })).toBe(expected.get('tegra_gpu_frequency_hz'));
    expect(value(s, M.clock, { clock: 'memory' })).toBe(expected.get('tegra_emc_frequency_hz'));
    expect(value(s, M.memoryUtilization)).toBeCloseTo(expected.get('tegra_emc_util_percentage')! / 100);
    for (let cpu = 0; cpu < 6; cpu++) {
      expect(value(s, M.cpuClock, { cpu: String(cpu) })).toBe(expected.get(`tegra_cpu_frequency_hz{cpu="${cpu + 1}"}`));
      expect(value(s, M.cpuUtilization, { cpu: String(cpu) })).toBeCloseTo(expected.get(`tegra_cpu_util_percentage{cpu="${cpu + 1}"}`)! / 100);
    }
    for (const sensor of ['ao', 'aux', 'cpu', 'gpu', 'pmic', 'thermal']) {
      expect(value(s, M.boardTemperature, { sensor })).toBeCloseTo(expected.get(`tegra_temperature_celcius{sensor="${sensor}"}`)!, 4);
    }
    for (const rail of ['VDD_IN', 'VDD_SOC', 'VDD_CPU_GPU_CV']) {
      expect(value(s, M.railPower, { rail })! * 1000).toBeCloseTo(expected.get(`tegra_wattage_current_milliwatts{sensor="${rail.toLowerCase()}"}`)!);
      expect(value(s, M.railAverage, { rail })! * 1000).toBeCloseTo(expected.get(`tegra_wattage_average_milliwatts{sensor="${rail.toLowerCase()}"}`)!);
    }
  });

  it('AGX Orin JetPack 6: per-GPC clocks, powered-off zones dropped, the duplicate NC rail kept apart', () => {
    const s = parseTegrastatsLine(
      '04-11-2025 10:36:27 RAM 4321/62801MB (lfb 1759x4MB) SWAP 19/31400MB (cached 0MB) CPU [0%@729,0%@729] EMC_FREQ 0%@2133 GR3D_FREQ 7%@[612,918] VIC_FREQ 729 APE 174 CV0@-256C CPU@44.562C GPU@-256C tj@44.343C VDD_GPU_SOC 2340mW/2340mW NC 0mW/0mW VDDQ_VDD2_1V8AO 301mW/301mW NC 5mW/4mW',
    );
    expect(s.unknown).toEqual([]);
    expect(s.gpus).toEqual([{ index: 0, utilization: 0.07, mhz: 918 }]);
    expect(s.temperatures.map((t) => t.sensor)).toEqual(['cpu', 'tj']);
    expect(s.rails.map((r) => r.name)).toEqual(['VDD_GPU_SOC', 'NC', 'VDDQ_VDD2_1V8AO', 'NC_2']);
    expect(s.rails[3]).toEqual({ name: 'NC_2', watts: 0.005, averageWatts: 0.004 });
    // The three-value form: current/average/a third, read past.
    expect(parseTegrastatsLine('RAM 1/2MB VDD_IN 5012mW/4980mW/7200mW VDD_SOC 1200/1100/1500').rails).toEqual([
      { name: 'VDD_IN', watts: 5.012, averageWatts: 4.98 },
      { name: 'VDD_SOC', watts: 1.2, averageWatts: 1.1 },
    ]);
    expect(s.engines).toEqual([
      { name: 'vic', mhz: 729 },
      { name: 'ape', mhz: 174 },
    ]);
    // The GPU zone is powered off: no GPU temperature rather than -256 °C.
    expect(value(tegraSamples(s), M.temperature)).toBeUndefined();
  });

  it('reads the TX1 / L4T 28 format, cores that are off, and the Xavier rail named CPU', () => {
    const tx1 = parseTegrastatsLine('RAM 3468/3983MB (lfb 48x4MB) SWAP 873/8192MB (cached 295MB) cpu [17%,13%,off,5%]@408 EMC 1%@408 APE 25 GR3D 3%@76');
    expect(tx1.unknown).toEqual([]);
    expect(tx1.cpus).toEqual([
      { index: 0, online: true, utilization: 0.17, mhz: 408 },
      { index: 1, online: true, utilization: 0.13, mhz: 408 },
      { index: 2, online: false },
      { index: 3, online: true, utilization: 0.05, mhz: 408 },
    ]);
    expect(tx1.gpus).toEqual([{ index: 0, utilization: 0.03, mhz: 76 }]);
    expect(tx1.emc).toEqual({ utilization: 0.01, mhz: 408 });
    const xavier = parseTegrastatsLine('RAM 14700/15692MB (lfb 3x2MB) CPU [0%@1190,0%@1190] EMC_FREQ 0% GR3D_FREQ 0% GPU@30.5C GPU 463/463 CPU 618/618 SOC 2936/2936');
    expect(xavier.unknown).toEqual([]);
    expect(xavier.rails.map((r) => `${r.name}=${r.watts}`)).toEqual(['GPU=0.463', 'CPU=0.618', 'SOC=2.936']);
    expect(xavier.cpus).toHaveLength(2);
  });

  it('reads DriveOS clock-only loads and IRAM, a second GPU, and MTS', () => {
    const s = parseTegrastatsLine('RAM 264/28409MB (lfb 7004x4MB) IRAM 0/252kB(lfb 252kB) CPU [0%@1817] EMC_FREQ @2133 GR3D_FREQ 0%@1109 GR3D2_FREQ 13%@0 MTS fg 0% bg 1% AUX@30C');
    expect(s.unknown).toEqual([]);
    expect(s.emc).toEqual({ mhz: 2133 });
    expect(s.gpus.map((g) => g.index)).toEqual([0, 1]);
    expect(s.temperatures).toEqual([{ sensor: 'aux', celsius: 30 }]);
  });

  it('reports what it does not know and keeps the rest', () => {
    const s = parseTegrastatsLine('RAM 1000/2000MB GR3D_FREQ 5%@300 FROB 12% 99bottles tj@40C VDD_IN 1000mW/900mW');
    expect(s.unknown).toEqual(['FROB', '12%', '99bottles']);
    expect(s.ram).toEqual({ usedMiB: 1000, totalMiB: 2000 });
    expect(s.rails).toEqual([{ name: 'VDD_IN', watts: 1, averageWatts: 0.9 }]);
    expect(s.temperatures).toEqual([{ sensor: 'tj', celsius: 40 }]);
    const garbage = parseTegrastatsLine('Segmentation fault (core dumped)');
    expect(garbage.ram).toBeUndefined();
    expect(garbage.unknown.length).toBeGreaterThan(0);
  });
});

describe('nvidia-smi', () => {
  it('asks an old driver for its own names of the same fields', () => {
    const help = `List of valid properties to query for the switch "--query-gpu":\n\n"index"\nZero based index.\n\n"clocks.gr"\nGraphics clock.\n\n"clocks_throttle_reasons.active"\nBit mask.\n\n"power.draw"\n`;
    expect(chooseFields(parseHelpQueryGpu(help))).toEqual([
      { property: 'index', field: 'index' },
      { property: 'powerDraw', field: 'power.draw' },
      { property: 'clockGraphics', field: 'clocks.gr' },
      { property: 'clockEventReasons', field: 'clocks_throttle_reasons.active' },
    ]);
    const recorded = chooseFields(parseHelpQueryGpu(fixture('nvidia-smi/nvidia-geforce-rtx-2080-super__help-query-gpu.txt'))).map((f) => f.field);
    expect(recorded).toContain('clocks.current.graphics');
    expect(recorded).toContain('clocks_event_reasons.active');
  });

  it('leaves "no value" tokens out, decodes the clock event mask, and reports nonsense with its line and field', () => {
    const fields = ['index', 'name', 'temperature.gpu', 'power.draw', 'fan.speed', 'pstate', 'clocks_event_reasons.active', 'ecc.mode.current', 'memory.used'];
    const r = parseQueryGpu(
      ['0, NVIDIA GeForce RTX 3090, 83, 348.21, 71, P2, 0x0000000000000064, [N/A], 20480', '1, Tesla P4, [Not Supported], [Insufficient Permissions], N/A, P8, 0x0000000000000001, Enabled, lots', '2, Broken'].join('\n'),
      fields,
    );
    expect(r.problems).toEqual(['line 2: memory.used: not a number: "lots"', 'line 3: 2 values for 9 fields; line skipped']);
    expect(r.gpus).toHaveLength(2);
    const s = nvidiaSamples(r.gpus);
    expect(value(s, M.temperature, { gpu: '0' })).toBe(83);
    expect(value(s, M.fan, { gpu: '0' })).toBe(0.71);
    expect(value(s, M.pstate, { gpu: '0' })).toBe(2);
    expect(value(s, M.memoryUsed, { gpu: '0' })).toBe(20480 * 1024 * 1024);
    // 0x64 = sw_power_cap (0x4) + sw_thermal_slowdown (0x20) + hw_thermal_slowdown (0x40)
    const active = s.filter((x) => x.metric === M.clockEvent && x.labels?.gpu === '0' && x.value === 1).map((x) => x.labels?.reason);
    expect(active).toEqual(['sw_power_cap', 'sw_thermal_slowdown', 'hw_thermal_slowdown']);
    expect(s.filter((x) => x.metric === M.clockEvent && x.labels?.gpu === '0')).toHaveLength(9);
    // GPU 1: every unavailable value is an absent series, not 0.
    expect(value(s, M.temperature, { gpu: '1' })).toBeUndefined();
    expect(value(s, M.power, { gpu: '1' })).toBeUndefined();
    expect(value(s, M.fan, { gpu: '1' })).toBeUndefined();
    expect(value(s, M.eccEnabled, { gpu: '1' })).toBe(1);
    expect(value(s, M.memoryUsed, { gpu: '1' })).toBeUndefined();
  });

  it('prefers power.draw and the enforced limit when a full capture lists every variant', () => {
    const s = nvidiaSamples(parseQueryGpu(fixture('nvidia-smi/nvidia-h100-mig__load.csv')).gpus);
    // power.draw 433.78 W, power.draw.instant 447.35 W in the same row (the reference exporter's expected output agrees).
    expect(value(s, M.power)).toBe(433.78);
    expect(value(s, M.powerLimit)).toBe(700);
    // MIG on: utilization is [N/A] there, so absent.
    expect(value(s, M.utilization)).toBeUndefined();
    expect(value(s, M.migEnabled)).toBe(1);
  });

  it('reads per-process GPU memory with and without a header', () => {
    expect(parseComputeApps(fixture('nvidia-smi/nvidia-h100-mig__load__compute-apps.csv')).map((p) => `${p.process}:${p.bytes! / 1024 ** 2}`)).toEqual(['memhog:2296', 'memhog:1272', 'gpu_burn:7484']);
    expect(parseComputeApps('GPU-1, 123, /usr/bin/ollama, 4096\nGPU-1, 124, [Insufficient Permissions], [N/A]\n')).toEqual([
      { uuid: 'GPU-1', pid: 123, process: 'ollama', bytes: 4096 * 1024 ** 2 },
      { uuid: 'GPU-1', pid: 124, process: 'unknown' },
    ]);
  });
});

/**
 * An A100-style report in MIG mode, written from the nvsmi_device_v12 DTD's shape
 * (mig_devices/mig_device, remapped_rows, gpu_power_readings): no recorded one is
 * in the fixtures, so this is the schema, not a capture.
 */
const MIG_XML = `<?xml version="1.0" ?>
<!DOCTYPE nvidia_smi_log SYSTEM "nvsmi_device_v12.dtd">
<nvidia_smi_log>
  <driver_version>535.104.05</driver_version>
  <gpu id="00000000:07:00.0">
    <product_name>NVIDIA A100-SXM4-40GB</product_name>
    <uuid>GPU-a</uuid>
    <mig_mode><current_mig>Enabled</current_mig><pending_mig>Enabled</pending_mig></mig_mode>
    <mig_devices>
      <mig_device>
        <index>0</index><gpu_instance_id>1</gpu_instance_id><compute_instance_id>0</compute_instance_id>
        <fb_memory_usage><total>9856 MiB</total><reserved>0 MiB</reserved><used>13 MiB</used><free>9842 MiB</free></fb_memory_usage>
      </mig_device>
      <mig_device>
        <index>1</index><gpu_instance_id>2</gpu_instance_id><compute_instance_id>0</compute_instance_id>
        <fb_memory_usage><total>9856 MiB</total><reserved>0 MiB</reserved><used>4096 MiB</used><free>5760 MiB</free></fb_memory_usage>
      </mig_device>
    </mig_devices>
    <ecc_errors><volatile><sram_correctable>1</sram_correctable><sram_uncorrectable>0</sram_uncorrectable><dram_correctable>2</dram_correctable><dram_uncorrectable>3</dram_uncorrectable></volatile></ecc_errors>
    <remapped_rows><remapped_row_corr>0</remapped_row_corr><remapped_row_unc>1</remapped_row_unc><remapped_row_pending>Yes</remapped_row_pending><remapped_row_failure>No</remapped_row_failure></remapped_rows>
    <gpu_power_readings><power_draw>61.94 W</power_draw><current_power_limit>400.00 W</current_power_limit></gpu_power_readings>
    <clocks_throttle_reasons><clocks_throttle_reason_gpu_idle>Active</clocks_throttle_reason_gpu_idle><clocks_throttle_reason_hw_power_brake_slowdown>Active</clocks_throttle_reason_hw_power_brake_slowdown></clocks_throttle_reasons>
    <utilization><gpu_util>N/A</gpu_util></utilization>
  </gpu>
</nvidia_smi_log>`;

describe('nvidia-smi -q -x', () => {
  it('reads MIG instances, v12 ECC and remapped rows, throttle reasons and the v12 power block', () => {
    const r = parseNvidiaSmiXml(MIG_XML);
    expect(r.problems).toEqual([]);
    expect(r.mig).toEqual([
      { gpu: '0', instance: '1/0', usedBytes: 13 * 1024 ** 2, totalBytes: 9856 * 1024 ** 2 },
      { gpu: '0', instance: '2/0', usedBytes: 4096 * 1024 ** 2, totalBytes: 9856 * 1024 ** 2 },
    ]);
    const s = [...nvidiaSamples(r.gpus), ...migSamples(r.mig)];
    expect(value(s, M.eccErrors, { type: 'corrected' })).toBe(3);
    expect(value(s, M.eccErrors, { type: 'uncorrected' })).toBe(3);
    expect(value(s, M.remappedRows, { type: 'uncorrectable' })).toBe(1);
    expect(value(s, M.remappedPending)).toBe(1);
    expect(value(s, M.remappedFailed)).toBe(0);
    expect(value(s, M.power)).toBe(61.94);
    expect(value(s, M.powerLimit)).toBe(400);
    expect(value(s, M.utilization)).toBeUndefined();
    expect(value(s, M.migEnabled)).toBe(1);
    expect(value(s, M.migMemoryUsed, { instance_id: '2/0' })).toBe(4096 * 1024 ** 2);
    const active = s.filter((x) => x.metric === M.clockEvent && x.value === 1).map((x) => x.labels?.reason);
    expect(active).toEqual(['gpu_idle', 'hw_power_brake_slowdown']);
  });

  it('v13 moved the power draw: average_power_draw, and the limit is current_power_limit', () => {
    const s = nvidiaSamples(parseNvidiaSmiXml(fixture('nvidia-xml/telegraf__rtx-3080-v13.xml')).gpus);
    expect(value(s, M.power)).toBe(139.62);
    expect(value(s, M.powerLimit)).toBe(320);
    // v10 (GTX 1070 Ti): power_draw N/A is an absent series, not 0.
    expect(value(nvidiaSamples(parseNvidiaSmiXml(fixture('nvidia-xml/telegraf__gtx-1070-ti.xml')).gpus), M.power)).toBeUndefined();
  });

  it('reports broken XML and a value it cannot read, and keeps the rest', () => {
    expect(parseNvidiaSmiXml('<nvidia_smi_log><gpu>').problems[0]).toMatch(/^not XML/);
    expect(parseNvidiaSmiXml('NVIDIA-SMI has failed').problems[0]).toMatch(/^not XML/);
    const r = parseNvidiaSmiXml('<nvidia_smi_log><gpu id="0"><temperature><gpu_temp>hot</gpu_temp></temperature><fan_speed>40 %</fan_speed></gpu></nvidia_smi_log>');
    expect(r.problems).toEqual(['gpu 0: temperature/gpu_temp: not a number: "hot"']);
    expect(r.gpus[0]?.values.fanSpeed).toBe(0.4);
  });
});
