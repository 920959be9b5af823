import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['node_modules/**', '.data/**', 'coverage/**', '.tap/**', 'dist/**'] }),
  {
    rules: {
      // Signed documents and library results are untyped JSON by nature.
      '@typescript-eslint/no-explicit-any': 'off',
      // `void reply.header(...)` marks a deliberately unawaited thenable.
      'no-void': ['error', { allowAsStatement: true }]
    }
  }
]
