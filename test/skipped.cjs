// Loaded by .mocharc.cjs when it left suites out (a prerequisite not built, outside CI): repeats which and why at the
// end of the run, where a reader of a long test log looks.
module.exports = {
  mochaHooks: {
    afterAll() {
      console.warn(`\n${process.env.PORTICO_SKIPPED_SUITES}`);
    },
  },
};
