// Integration tests start emulators and JVMs on a 2-core machine: minutes, not seconds.
jest.setTimeout(600_000);
// package-lock pins SDK versions that run on Node 20; their Node 22 notice is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
