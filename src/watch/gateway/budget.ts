// A fixed-window budget (frames or bytes per minute) for one connection.
export class WindowBudget {
  private windowEnds = 0;
  private spent = 0;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Spends `n`; false once the window's budget is exceeded. */
  spend(n = 1): boolean {
    const t = this.now();
    if (t >= this.windowEnds) {
      this.windowEnds = t + this.windowMs;
      this.spent = 0;
    }
    this.spent += n;
    return this.spent <= this.limit;
  }
}
