throw new Error("cordon eval replica: inert data, never run");
module.exports = function capture(event) { return { event, at: Date.now() }; };
