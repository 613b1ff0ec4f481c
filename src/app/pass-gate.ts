/**
 * How the organizations of one aggregation pass share the process: light rounds (a steady
 * pass's few dirty hours) overlap one another; a heavy round (a backlog, which folds on every
 * thread and holds a month of rows) waits until it runs alone, and holds off new rounds
 * meanwhile. An organization takes its turn before its lease, so that another worker can
 * aggregate it while it waits here.
 */
export class PassGate {
  private lightRunning = 0;
  private heavyRunning = false;
  private heavyWaiting = 0;
  private waiters: Array<() => void> = [];

  async run<T>(heavy: boolean, work: () => Promise<T>): Promise<T> {
    if (heavy) this.heavyWaiting += 1;
    try {
      // A waiting heavy round goes first: otherwise light rounds could keep it out for the whole pass.
      while (this.heavyRunning || (heavy ? this.lightRunning > 0 : this.heavyWaiting > 0)) await this.turn();
    } finally {
      if (heavy) this.heavyWaiting -= 1;
    }
    if (heavy) this.heavyRunning = true;
    else this.lightRunning += 1;
    try {
      return await work();
    } finally {
      if (heavy) this.heavyRunning = false;
      else this.lightRunning -= 1;
      for (const wake of this.waiters.splice(0)) wake();
    }
  }

  private turn(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
