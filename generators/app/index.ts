// Entry point yo discovers (dist/generators/app/index.js): the generator for `yo secure-stack`.
export { default } from './generator.js';
