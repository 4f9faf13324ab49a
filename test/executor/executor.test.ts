/** One suite, two executors: commands on this machine, and on a real OpenSSH host. */
import { defineExecutorSuite } from './define-executor-suite.ts';
import { localBackend, sshBackend } from './executor-backends.ts';

defineExecutorSuite(localBackend());
defineExecutorSuite(sshBackend());
