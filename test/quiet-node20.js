// Node.js 20 is past its end of life, but it is what this project's CI machine runs (see README, "Node.js").
// The AWS SDK and jsii each print a banner about it that has no bearing on a test's result, and that a
// reader would take for a failure; every process a test starts inherits this silence.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION = '20';
