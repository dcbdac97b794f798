export * from 'undici-real'
export { default } from 'undici-real'
