const addon = require("/app/answer.node");
console.log(`answer from C: ${addon.answer()} (uid ${process.getuid()})`);
