// Which CPU each bench process runs on. On the 2-vCPU virtual machines of December 2026 the two
// vCPUs did not run at the same speed: a fixed loop took 240 ms on vCPU 0 and 107 ms on vCPU 1,
// run after run (`taskset -c N`), with no steal time reported. A process the scheduler put on the
// slow one measured everything about 2.2 times dearer, and since a server, the load generator and
// the mock move between vCPUs from run to run, a contender's CPU per request depended more on where
// it landed than on its code: plain Express read 67-143 µs per request over five rounds, and
// "added by capi-kit mounted without tracking" 57 µs in one run and 0 in the next. So the bench
// times each CPU once, runs what it measures (this process, the servers under test, the cold-start
// children) on the fastest and its helpers (load generator, mock, sink) on the others, and says so
// in RESULTS.md. Linux with util-linux's `taskset` only; elsewhere nothing is pinned.
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

/**
 * A loop whose time is the CPU's speed for work like the benches': short-lived objects and strings
 * (allocation, young-generation collections) beside arithmetic, the same on every CPU.
 */
const SPIN =
  'const t=performance.now();let keep=[],x=0;for(let i=0;i<2e6;i++){keep.push({i,s:String(i)});if(keep.length>5e4)keep=[];x=(x+i*i)|0}process.stdout.write(String(performance.now()-t))';

const hasTaskset = () => {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/** Milliseconds of SPIN on `cpu`, the best of `times` (a run can only be slowed, not sped up). */
const spinMs = (cpu, times = 3) => {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < times; i++) {
    const out = execFileSync('taskset', ['-c', String(cpu), process.execPath, '-e', SPIN], {
      encoding: 'utf8',
    });
    best = Math.min(best, Number(out));
  }
  return best;
};

/**
 * The CPUs this process may run on (its affinity), from `taskset -p`; every CPU when it cannot
 * tell.
 */
const allowedCpus = () => {
  try {
    const out = execFileSync('taskset', ['-c', '-p', String(process.pid)], { encoding: 'utf8' });
    const list = out.slice(out.lastIndexOf(':') + 1).trim();
    return list.split(',').flatMap((part) => {
      const [from, to = from] = part.split('-').map(Number);
      return Array.from({ length: to - from + 1 }, (_, i) => from + i);
    });
  } catch {
    return Array.from({ length: availableParallelism() }, (_, i) => i);
  }
};

let plan;

/**
 * The CPU plan, made on first use: each allowed CPU timed with SPIN, `measured` the fastest,
 * `helpers` the rest. This process is moved to `measured`, all its threads, so in-process benches
 * and the children it starts without a role of their own run there. `pinned: false` (nothing
 * moved) off Linux, with a single CPU, without taskset, or when taskset may not set affinity.
 */
export const cpuPlan = () => {
  if (plan) return plan;
  const cpus = allowedCpus();
  if (process.platform !== 'linux' || cpus.length < 2 || !hasTaskset()) {
    plan = { pinned: false, cpus, speeds: {}, measured: undefined, helpers: undefined };
    return plan;
  }
  let speeds;
  try {
    speeds = Object.fromEntries(cpus.map((cpu) => [cpu, spinMs(cpu)]));
  } catch (error) {
    // taskset is there but may not set affinity (a container's seccomp or cpuset): run unpinned.
    console.warn(`bench: CPUs not pinned, taskset failed: ${error.message}`);
    plan = { pinned: false, cpus, speeds: {}, measured: undefined, helpers: undefined };
    return plan;
  }
  const [measured, ...rest] = [...cpus].sort((a, b) => speeds[a] - speeds[b]);
  plan = { pinned: true, cpus, speeds, measured, helpers: rest.join(','), failures: 0 };
  pinProcess(process.pid, String(measured));
  return plan;
};

/** Moves process `pid` (every thread) to `cpus` (`taskset` list syntax); a no-op when not pinned. */
export const pinProcess = (pid, cpus) => {
  if (!cpuPlan().pinned || cpus === undefined) return;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
  } catch (error) {
    // A process that exited meanwhile, or an affinity the system refused: counted in describeCpus.
    plan.failures++;
    console.warn(`bench: could not pin process ${pid} to CPU ${cpus}: ${error.message}`);
  }
};

/** Lets a process run on every allowed CPU again (two jobs side by side, as the outage bench). */
export const unpin = (pid) => pinProcess(pid, cpuPlan().cpus.join(','));

/** Moves a helper process (load generator, mock, sink) off the measured CPU. */
export const pinHelper = (pid) => pinProcess(pid, cpuPlan().helpers);

/** Moves a process under measurement (a server under test) to the measured CPU. */
export const pinMeasured = (pid) => pinProcess(pid, String(cpuPlan().measured));

/**
 * One line for RESULTS.md: which CPU ran what, and how fast each one was at the start and now (the
 * loop is timed again: a vCPU's speed changed over minutes on these machines).
 */
export const describeCpus = () => {
  const p = cpuPlan();
  if (!p.pinned) return 'processes not pinned to CPUs (not Linux, one CPU, or no usable taskset)';
  const times = (speeds) => p.cpus.map((cpu) => `CPU ${cpu} ${speeds[cpu].toFixed(0)} ms`);
  let end = 'could not be timed at the end';
  try {
    end = `${times(Object.fromEntries(p.cpus.map((cpu) => [cpu, spinMs(cpu)]))).join(', ')} at the end`;
  } catch {}
  const failed = p.failures > 0 ? `; ${p.failures} process(es) could not be pinned` : '';
  return `measured processes on CPU ${p.measured}, helpers (load generator, mock, sink) on ${p.helpers}; a fixed loop took ${times(p.speeds).join(', ')} at the start and ${end} (bench/cpus.mjs)${failed}`;
};
